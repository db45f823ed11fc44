"""`stagebox cue N|next|previous`: select the current cue (asks the service)."""

from __future__ import annotations

import argparse

from stagebox.cli import remote
from stagebox.cli.show import cue_summary


def register(sub: argparse._SubParsersAction) -> None:
    cue = sub.add_parser("cue", help="select the current cue: a number, next or previous")
    cue.add_argument("which", metavar="N|next|previous", help="cue number as the sheet writes it")
    cue.add_argument("--json", action="store_true", help="print the selected cue as JSON")
    remote.add_socket_option(cue)
    cue.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cue = remote.call(args, "cue", {"which": args.which})
    if args.json:
        remote.print_json(cue)
    else:
        print(f"cue {cue_summary(cue)}")
        if cue.get("deferred"):
            print(f"deferred: {cue['deferred']}")
    return 0
