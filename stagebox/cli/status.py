"""`stagebox status [--json]`: the running stage at a glance (timecode, lock, mode, cue, take,
lights, input levels, disk left), asked of the service over the control socket."""

from __future__ import annotations

import argparse

from stagebox.cli import remote
from stagebox.cli.show import status_lines


def register(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="show the running stage (asks the service)")
    status.add_argument("--json", action="store_true", help="print the service's answer as JSON")
    remote.add_socket_option(status)
    status.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = remote.call(args, "status")
    if args.json:
        remote.print_json(status)
    else:
        print("\n".join(status_lines(status)))
    return 0
