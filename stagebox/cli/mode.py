"""`stagebox mode rehearse|record|safe|review`: switch the stage's mode (asks the service).

rehearse: streamers, beeps and cue light, nothing recorded; record: every pass becomes a take;
safe: lamps dark and buttons ignored, for setting up and for `stagebox lights test`; review:
as rehearse, and the current cue's take plays back locked to the LTC (`stagebox review`).
"""

from __future__ import annotations

import argparse

from stagebox.cli import remote
from stagebox.snapshot import MODES


def register(sub: argparse._SubParsersAction) -> None:
    mode = sub.add_parser("mode", help="switch the stage to rehearse, record, safe or review mode")
    mode.add_argument("mode", choices=MODES, metavar="|".join(MODES))
    remote.add_socket_option(mode)
    mode.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = remote.call(args, "mode", {"mode": args.mode})
    print(f"mode: {result.get('mode', args.mode) if isinstance(result, dict) else args.mode}")
    return 0
