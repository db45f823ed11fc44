"""`stagebox takes`: the takes, from the running stage or from a takes folder.

`stagebox takes [--cue N] [--json]` (no action) asks the running service. `takes list FOLDER`
and `takes report FOLDER` read a takes folder's log offline (a copy collected over rsync, or
the stage's folder while the service is stopped); they never change it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stagebox.cli import CLIError, remote
from stagebox.cli.show import take_table

if TYPE_CHECKING:
    from stagebox.takes.log import TakeLog


def register(sub: argparse._SubParsersAction) -> None:
    takes = sub.add_parser(
        "takes",
        help="list the stage's takes (asks the service), or a takes folder's (list/report)",
        description="Without an action: the running stage's takes. With list/report FOLDER: "
        "a takes folder's log, read offline.",
    )
    takes.add_argument("--cue", dest="remote_cue", metavar="N", help="only this cue")
    takes.add_argument("--json", dest="remote_json", action="store_true", help="print JSON")
    remote.add_socket_option(takes)
    takes.set_defaults(func=run_remote)
    cmds = takes.add_subparsers(dest="takes_command", metavar="ACTION")
    cmds.required = False
    lst = cmds.add_parser("list", help="list the takes of a takes folder")
    lst.add_argument("folder", metavar="FOLDER")
    lst.add_argument("--cue", metavar="CUE", help="only this cue")
    lst.add_argument("--circled", action="store_true", help="only circled takes")
    lst.set_defaults(func=run_list)
    report = cmds.add_parser("report", help="write the take report CSV")
    report.add_argument("folder", metavar="FOLDER")
    report.add_argument(
        "-o", "--out", metavar="OUT.csv", help="file to write (default, or -: stdout)"
    )
    report.set_defaults(func=run_report)


def run_remote(args: argparse.Namespace) -> int:
    request = {"cue": args.remote_cue} if args.remote_cue else {}
    takes = remote.call(args, "takes", request)
    if args.remote_json:
        remote.print_json(takes)
    elif not takes:
        print(f"no takes of cue {args.remote_cue}" if args.remote_cue else "no takes yet")
    else:
        print("\n".join(take_table(takes)))
    return 0


def _open(folder: str) -> TakeLog:
    from stagebox.takes.log import LOG_NAME, TakeLog, TakeLogError

    path = Path(folder)
    if not path.is_dir():
        raise CLIError(f"{folder}: no such takes folder")
    if not (path / LOG_NAME).is_file():
        raise CLIError(f"{folder}: no take log ({LOG_NAME}) in this folder")
    try:
        takes = TakeLog(path)
    except (TakeLogError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    for warning in takes.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return takes


def run_list(args: argparse.Namespace) -> int:
    takes = _open(args.folder)
    records = takes.takes(args.cue)
    if args.circled:
        records = [r for r in records if r.circled]
    if records:
        print("\n".join(take_table([r.to_dict() for r in records])))
    return 0


def run_report(args: argparse.Namespace) -> int:
    takes = _open(args.folder)
    if args.out and args.out != "-":  # `-o -`: stdout, as without -o
        try:
            count = takes.report_csv(args.out)
        except OSError as exc:
            raise CLIError(f"{args.out}: {exc.strerror}") from None
        print(f"{args.out}: {count} takes", file=sys.stderr)
    else:
        takes.report_csv(sys.stdout)
    return 0
