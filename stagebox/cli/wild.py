"""`stagebox wild [--cue N] [--seconds S]`: record a wild line with the DAW stopped.

The cue's line on the actor's screen, the configured beeps on a local count-in, and the take
from where TC-in would fall after the last beep, until `stagebox wild` again (or `--seconds`).
The take is marked wild in the take log, the report and its iXML.
"""

from __future__ import annotations

import argparse

from stagebox.cli import remote
from stagebox.cli.argtypes import whole
from stagebox.cli.roomtone import report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "wild", help="record a wild line (DAW stopped, local count-in); again: stop it"
    )
    p.add_argument("--cue", metavar="N", help="the cue (default: the current cue)")
    p.add_argument("--seconds", type=whole, help="stop after this many seconds, 1-600")
    p.add_argument("--json", action="store_true", help="print the service's answer as JSON")
    remote.add_socket_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = {k: v for k, v in (("cue", args.cue), ("seconds", args.seconds)) if v is not None}
    return report(args, remote.call(args, "wild", request), "wild")
