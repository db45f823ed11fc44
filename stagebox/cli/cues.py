"""`stagebox cues check FILE`: load a cue sheet the way the stage will, and list it or its
problems (every problem, each with its line), so a sheet can be fixed before the session."""

from __future__ import annotations

import argparse
import sys

from stagebox.cli import CLIError
from stagebox.cues import CueSheetError, load_cue_sheet
from stagebox.timecode import Rate, TimecodeError


def register(sub: argparse._SubParsersAction) -> None:
    cues = sub.add_parser("cues", help="check and list cue sheets")
    cmds = cues.add_subparsers(dest="cues_command", metavar="ACTION")
    cmds.required = True
    check = cmds.add_parser("check", help="load a cue sheet and list its cues or its problems")
    check.add_argument("sheet", metavar="FILE", help="CSV/TSV, VSLink list or Pro Tools text")
    check.add_argument("--rate", metavar="RATE", help="stage rate: 23.976, 24, 25, 29.97df ...")
    check.add_argument("--encoding", metavar="NAME", help="text encoding if not UTF-8")
    check.add_argument("--json", action="store_true", help="print the cue list as JSON")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    rate = None
    if args.rate:
        try:
            rate = Rate.parse(args.rate)
        except TimecodeError as exc:
            raise CLIError(f"--rate: {exc}") from None
    try:
        sheet = load_cue_sheet(args.sheet, rate, encoding=args.encoding)
    except CueSheetError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        count = len(exc.problems)
        raise CLIError(
            f"{exc.path.name}: not loaded ({count} problem{'s' if count != 1 else ''})"
        ) from None
    if args.json:
        import json

        print(json.dumps(sheet.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for warning in sheet.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{sheet.path.name}: {len(sheet)} cues at {sheet.rate} fps ({sheet.source_format})")
    for cue in sheet:
        seconds = cue.duration_frames / float(sheet.rate.fps)
        line = " ".join(cue.dialogue.split())
        print(
            f"{cue.number:>8}  {cue.tc_in}  {cue.tc_out}  {seconds:5.1f}s  "
            f"{cue.character[:16]:<16}  {line[:60]}"
        )
    return 0
