"""`stagebox cues check|load|list`: cue sheets, offline and on the running stage.

`cues check FILE` works offline: it loads a sheet the way the stage will and lists it or its
problems (every problem, each with its line), so a sheet can be fixed before the session.
`cues load FILE` hands the sheet to the running service (which keeps its old list if the new
one has problems) and `cues list` shows the list the service has, current cue marked.
"""

from __future__ import annotations

import argparse
import os
import sys

from stagebox.cli import CLIError, remote
from stagebox.cli.show import cue_table
from stagebox.safefile import show_path
from stagebox.termtext import json_text, printable


def register(sub: argparse._SubParsersAction) -> None:
    cues = sub.add_parser("cues", help="check a cue sheet, load it on the stage, list its cues")
    cmds = cues.add_subparsers(dest="cues_command", metavar="ACTION")
    cmds.required = True
    check = cmds.add_parser("check", help="load a cue sheet and list its cues or its problems")
    check.add_argument(
        "sheet", metavar="FILE", help="CSV/TSV, VSLink, Pro Tools text, Avid locators, EDL, DetX"
    )
    check.add_argument("--rate", metavar="RATE", help="stage rate: 23.976, 24, 25, 29.97df ...")
    check.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding (default: UTF-8/UTF-16 BOM, Mac Roman for Pro Tools text)",
    )
    check.add_argument(
        "--language", metavar="CODE", help="dubbing: the language to record (FR for Dialogue FR)"
    )
    check.add_argument("--json", action="store_true", help="print the cue list as JSON")
    check.set_defaults(func=run_check)

    load = cmds.add_parser("load", help="load a cue sheet on the running stage (asks the service)")
    load.add_argument(
        "sheet", metavar="FILE", help="CSV/TSV, VSLink, Pro Tools text, Avid locators, EDL, DetX"
    )
    load.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding, forced (default: UTF-8, else stage.cue_sheet_encoding)",
    )
    remote.add_socket_option(load)
    load.set_defaults(func=run_load)

    lst = cmds.add_parser("list", help="list the running stage's cues (asks the service)")
    lst.add_argument("--json", action="store_true", help="print the cue list as JSON")
    remote.add_socket_option(lst)
    lst.set_defaults(func=run_list)


# The unit runs with ProtectHome= and PrivateTmp=: files there do not exist for the service.
HIDDEN_FROM_SERVICE = ("/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/")


def run_load(args: argparse.Namespace) -> int:
    # The service has its own working directory: give it the full path.
    path = os.path.abspath(args.sheet)
    if not os.path.isfile(path):
        raise CLIError(f"{args.sheet}: no such file")
    name = os.path.basename(path)
    hidden = next((p for p in HIDDEN_FROM_SERVICE if path.startswith(p)), None)

    def refused(message: str) -> str:
        text = f"{name}: not loaded; the stage keeps the cue list it had"
        if hidden and any(m in message for m in ("No such file", "Permission denied")):
            text += (
                f" (the service cannot see {hidden.rstrip('/')}: keep cue sheets in a folder "
                "it can read, e.g. /srv/stagebox/cues, see docs/cli.md)"
            )
        return text

    request = {"path": path}
    if args.encoding:
        request["encoding"] = args.encoding
    result = remote.call(args, "cues.load", request, refused=refused)
    for warning in result.get("warnings", []):
        print(printable(f"warning: {warning}"), file=sys.stderr)
    rate = f" at {result['rate']} fps" if result.get("rate") else ""
    n = result.get("cues", "?")
    how = ", ".join(x for x in (result.get("format"), result.get("encoding")) if x)
    how = f" ({how})" if how else ""
    print(
        printable(f"{result.get('path', path)}: {n} cue{'' if n == 1 else 's'} loaded{rate}{how}")
    )
    if result.get("deferred"):
        print(printable(f"deferred: {result['deferred']}"))
    return 0


def run_list(args: argparse.Namespace) -> int:
    with remote.service(args) as client:
        cues = remote.ask(client, "cues.list")
        if args.json:
            remote.print_json(cues)
            return 0
        status = remote.ask(client, "status")
    if not cues:
        print("no cues loaded (load a sheet with: stagebox cues load FILE)")
        return 0
    current = (status.get("cue") or {}).get("number")
    upcoming = (status.get("next_cue") or {}).get("number")
    sheet = status.get("cue_sheet")
    if sheet:
        print(printable(f"{sheet}: {len(cues)} cue{'' if len(cues) == 1 else 's'}"))
    lines = cue_table(cues, current, upcoming)
    if sys.stdout.isatty():  # one cue per screen line; piped output keeps whole lines
        import shutil

        columns = shutil.get_terminal_size().columns
        lines = [line if len(line) <= columns else line[: columns - 1] + "…" for line in lines]
    print("\n".join(lines))
    return 0


def run_check(args: argparse.Namespace) -> int:
    # The sheet importers, here: `cues load` and `cues list` only talk to the service.
    from stagebox.cues import CueSheetError, load_cue_sheet
    from stagebox.timecode import Rate, TimecodeError

    rate = None
    if args.rate:
        try:
            rate = Rate.parse(args.rate)
        except TimecodeError as exc:
            raise CLIError(f"--rate: {exc}") from None
    try:
        sheet = load_cue_sheet(
            args.sheet, rate, encoding=args.encoding, language=args.language or ""
        )
    except CueSheetError as exc:
        for message in exc.messages:
            print(printable(message), file=sys.stderr)
        count = len(exc.problems)
        raise CLIError(
            f"{show_path(exc.path.name)}: not loaded ({count} problem{'s' if count != 1 else ''})"
        ) from None
    if args.json:
        print(json_text(sheet.to_dict()))
        return 0
    for warning in sheet.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    print(
        printable(
            f"{sheet.path.name}: {len(sheet)} cues at {sheet.rate} fps "
            f"({sheet.source_format}, {sheet.encoding})"
        )
    )
    for cue in sheet:
        seconds = cue.duration_frames / float(sheet.rate.fps)
        line = " ".join(cue.dialogue.split())
        print(
            printable(
                f"{cue.number:>8}  {cue.tc_in}  {cue.tc_out}  {seconds:5.1f}s  "
                f"{cue.character[:16]:<16}  {line[:60]}"
            )
        )
    return 0
