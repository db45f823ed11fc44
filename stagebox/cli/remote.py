"""Calling the running service from a command: the `--socket` option, one connection, and the
service's refusals turned into the CLI's one-line errors.

Commands that ask the service (`status`, `cue`, `mode`, `takes`, ...) all go through here, so
that "not running", "permission denied" and "refused" read the same whichever command met them.
The socket is `--socket PATH`, else `$STAGEBOX_SOCKET`, else `/run/stagebox/control.sock`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

from stagebox.cli import CLIError
from stagebox.control.client import ControlClient, NotRunning
from stagebox.control.protocol import ControlError
from stagebox.termtext import json_text, printable

DEFAULT_TIMEOUT = 10.0  # seconds to wait for one answer


def add_socket_option(parser: argparse.ArgumentParser) -> None:
    """`--socket PATH` on a command that asks the service."""
    parser.add_argument(
        "--socket",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="control socket (default: $STAGEBOX_SOCKET, else /run/stagebox/control.sock)",
    )


def socket_path(args: argparse.Namespace) -> str | None:
    """The socket the command was pointed at, or None for the client's default."""
    return getattr(args, "socket", None)


@contextlib.contextmanager
def service(args: argparse.Namespace, timeout: float = DEFAULT_TIMEOUT) -> Iterator[ControlClient]:
    """One connection to the service for the command's calls; errors become CLIErrors."""
    client = ControlClient(socket_path(args), timeout=timeout)
    try:
        try:
            client.connect()
        except ControlError as exc:  # NotRunning, permission denied
            raise CLIError(str(exc)) from None
        yield client
    finally:
        client.close()


Refused = str | Callable[[str], str] | None


def ask(
    client: ControlClient, cmd: str, args: dict | None = None, *, refused: Refused = None
) -> object:
    """`client.call(cmd, **args)`, with a refusal turned into a CLIError.

    A refusal of several lines (a cue sheet's problems) is printed to stderr line by line and
    summed up in one last line (`refused`, if given: a text, or a function of the service's
    message), so the engineer sees every problem and the last line says what happened.
    """
    try:
        return client.call(cmd, **(args or {}))
    except NotRunning as exc:
        raise CLIError(str(exc)) from None
    except ControlError as exc:
        lines = str(exc).splitlines() or ["request refused"]
        if len(lines) == 1 and refused is None:
            raise CLIError(lines[0]) from None
        for line in lines:
            print(printable(line), file=sys.stderr)
        if callable(refused):
            refused = refused(str(exc))
        raise CLIError(refused or f"{cmd}: refused (see above)") from None


def call(
    args: argparse.Namespace,
    cmd: str,
    request: dict | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    refused: Refused = None,
) -> object:
    """One request on its own connection."""
    with service(args, timeout) as client:
        return ask(client, cmd, request, refused=refused)


def print_json(value: object) -> None:
    print(json_text(value))
