"""The `stagebox` command line: one module per command group, each with `register()`.

Every command module defines `register(subparsers)`, which adds its parser and sets
`func=run(args) -> int`. Errors the user can fix are raised as `CLIError` and printed as one
line naming what is wrong, with exit status 2.

Commands answer at once: `stagebox status` over SSH must not wait for numpy. So this package
imports only the standard library's argparse, and `main` imports the one command module the
command line names (all of them only for `stagebox --help` or a mistyped command); each
command module imports what only some of its actions need inside those actions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable

from stagebox import __version__
from stagebox.termtext import printable

# Command modules under stagebox.cli, in the order `stagebox --help` lists them.
COMMANDS = [
    "ltc",
    "config",
    "cues",
    "takes",
    "demo",
    "run",
    "replay",
    "feed",
    "lights",
    "take",
    "streamer",
    "status",
    "monitor",
    "cue",
    "mode",
    "review",
    "roomtone",
    "wild",
    "daw",
    "phones",
    "report",
    "doctor",
    "sync",
]


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def build_parser(commands: Iterable[str] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with `commands` (default: every command) registered."""
    parser = argparse.ArgumentParser(
        prog="stagebox",
        description="ADR stage controller: LTC-locked streamers, beeps, lights and takes.",
    )
    parser.add_argument("--version", action="version", version=f"stagebox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in commands:
        importlib.import_module(f"stagebox.cli.{name}").register(sub)
    return parser


def named_command(argv: list[str]) -> str | None:
    """The command `argv` names, when it is the first word and a known one; else None (help,
    --version or a mistake: the full parser answers those, listing every command)."""
    if argv and argv[0] in COMMANDS:
        return argv[0]
    return None


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    command = named_command(argv)
    parser = build_parser([command] if command else COMMANDS)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"stagebox: {printable(exc, newlines=False)}", file=sys.stderr)  # one line
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `stagebox ltc decode big.wav | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
