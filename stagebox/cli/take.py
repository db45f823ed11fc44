"""`stagebox take ...`: look at takes, circle them, note them, repair a folder after a crash.

Circling and noting work two ways, told apart by what is named:
- `take circle CUE TAKE`, `take uncircle CUE TAKE`, `take note CUE TAKE TEXT` ask the running
  service, which updates its take log (and the report) and the take file's iXML;
- `take circle FILE.wav`, `take uncircle FILE.wav`, `take note FILE.wav TEXT` edit that one
  file's iXML offline (a take copied off the stage, or with the service stopped).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from stagebox.cli import CLIError, remote
from stagebox.cli.show import take_summary
from stagebox.termtext import printable

# The take files' code (numpy underneath) is imported by the offline actions that read or edit
# a file: `take circle CUE TAKE` only asks the service, and answers at once.


def register(sub: argparse._SubParsersAction) -> None:
    take = sub.add_parser("take", help="inspect, circle and repair recorded takes")
    cmds = take.add_subparsers(dest="take_command", metavar="ACTION")
    cmds.required = True

    info = cmds.add_parser("info", help="print a take's format, timecode stamp and metadata")
    info.add_argument("files", nargs="+", metavar="TAKE.wav")
    info.set_defaults(func=run_info)

    circle = cmds.add_parser(
        "circle",
        help="circle a take: CUE TAKE on the running stage, or a FILE.wav offline",
    )
    circle.add_argument("target", nargs="+", metavar="CUE TAKE | TAKE.wav")
    circle.add_argument("--off", action="store_true", help="uncircle instead")
    circle.add_argument("--note", metavar="TEXT", help="replace the take's note")
    remote.add_socket_option(circle)
    circle.set_defaults(func=run_circle, circled=True)

    uncircle = cmds.add_parser(
        "uncircle", help="uncircle a take: CUE TAKE on the running stage, or a FILE.wav offline"
    )
    uncircle.add_argument("target", nargs="+", metavar="CUE TAKE | TAKE.wav")
    uncircle.add_argument("--note", metavar="TEXT", help="replace the take's note")
    remote.add_socket_option(uncircle)
    uncircle.set_defaults(func=run_circle, circled=False, off=False)

    note = cmds.add_parser(
        "note", help="set a take's note: CUE TAKE TEXT on the running stage, or FILE.wav TEXT"
    )
    note.add_argument("target", nargs="+", metavar="CUE TAKE TEXT | TAKE.wav TEXT")
    remote.add_socket_option(note)
    note.set_defaults(func=run_note)

    repair = cmds.add_parser("repair", help="finish takes a crash left open in a folder")
    repair.add_argument("folder")
    repair.set_defaults(func=run_repair)


def describe(path: str) -> list[str]:
    from stagebox.takes.bwf import read_take_metadata
    from stagebox.takes.disk import take_is_live
    from stagebox.timecode import Timecode
    from stagebox.wavfile import read_wav_info

    info = read_wav_info(path)
    meta = read_take_metadata(path)
    lines = [
        f"{path}:",
        f"  format     {info.channels} ch, {info.sample_rate} Hz, {info.bits}-bit {info.format}, "
        f"{info.container}",
        f"  length     {info.frames} frames ({info.duration:.3f} s)",
        f"  stamp      TimeReference {meta.time_reference} samples",
    ]
    if meta.rate is not None and meta.sample_rate:
        tc = Timecode.from_samples(meta.time_reference, meta.sample_rate, meta.rate)
        lines[-1] += f" = {tc} at {meta.rate}"
    lines += [
        f"  project    {meta.project}",
        f"  cue        {meta.scene}",
        *(f"    {key.lower():<14}{value}" for key, value in meta.user),
        f"  take       {meta.take}{'  (circled)' if meta.circled else ''}",
        f"  note       {meta.note}",
        f"  tracks     {', '.join(t.name for t in meta.tracks)}",
        f"  recorded   {meta.origination_date} {meta.origination_time} by {meta.originator}",
    ]
    if take_is_live(path):
        lines.append("  state      recording now: its sizes grow as the writer syncs (leave it be)")
    elif not info.header_consistent:
        lines.append("  warning    header sizes do not match the file (run `stagebox take repair`)")
    return lines


def run_info(args: argparse.Namespace) -> int:
    from stagebox.wavfile import WavError

    for path in args.files:
        try:
            print(printable("\n".join(describe(path))))
        except (WavError, OSError) as exc:
            raise CLIError(str(exc)) from None
    return 0


def _take_number(text: str) -> int:
    try:
        if not text.strip().isascii():  # int() would take Arabic-Indic or full-width digits
            raise ValueError(text)
        number = int(text)
    except ValueError:
        raise CLIError(f"TAKE must be a take number, not {text!r}") from None
    if number < 1:
        raise CLIError(f"TAKE must be 1 or more, not {number}")
    return number


def _take_file(path: str, usage: str) -> None:
    if not os.path.isfile(path):
        raise CLIError(
            f"{path}: no such take file (on the running stage name the cue and the take: "
            f"stagebox take {usage})"
        )


def run_circle(args: argparse.Namespace) -> int:
    circled = args.circled and not args.off
    action = args.take_command
    if len(args.target) == 2:
        cue, take = args.target[0], _take_number(args.target[1])
        with remote.service(args) as client:
            record = remote.ask(
                client, "take.circle", {"cue": cue, "take": take, "circled": circled}
            )
            if args.note is not None:
                record = remote.ask(
                    client, "take.note", {"cue": cue, "take": take, "text": args.note}
                )
        print(take_summary(record))
        return 0
    if len(args.target) != 1:
        raise CLIError(f"take {action}: give CUE TAKE (running stage) or one TAKE.wav (offline)")
    path = args.target[0]
    _take_file(path, f"{action} CUE TAKE")
    return _edit_file(path, circled=circled, note=args.note)


def run_note(args: argparse.Namespace) -> int:
    if len(args.target) == 3:
        cue, take, text = args.target[0], _take_number(args.target[1]), args.target[2]
        record = remote.call(args, "take.note", {"cue": cue, "take": take, "text": text})
        print(take_summary(record))
        return 0
    if len(args.target) != 2:
        raise CLIError(
            "take note: give CUE TAKE TEXT (running stage) or TAKE.wav TEXT (offline); "
            "quote a note of several words"
        )
    path, text = args.target
    _take_file(path, "note CUE TAKE TEXT")
    return _edit_file(path, circled=None, note=text)


def _edit_file(path: str, circled: bool | None, note: str | None) -> int:
    from stagebox.takes.bwf import update_take_metadata
    from stagebox.takes.disk import TakeError
    from stagebox.wavfile import WavError

    try:
        meta = update_take_metadata(path, circled=circled, note=note)
    except (WavError, TakeError, OSError) as exc:
        raise CLIError(str(exc)) from None
    state = "circled" if meta.circled else "not circled"
    print(printable(f"{path}: {state}" + (f", note: {meta.note}" if meta.note else "")))
    return 0


def run_repair(args: argparse.Namespace) -> int:
    """Finish the takes a crash left open (never a live one), then make the folder's take log
    agree with the folder, unless a running service owns the folder (it keeps its own log)."""
    from stagebox.takes.disk import folder_in_use
    from stagebox.takes.log import LOG_NAME, TakeLog
    from stagebox.takes.reconcile import reconcile
    from stagebox.takes.repair import repair_takes

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    folder = Path(args.folder)
    try:
        repaired = repair_takes(folder)
    except OSError as exc:
        raise CLIError(f"{args.folder}: {exc.strerror or exc}") from None
    for path in repaired:
        print(f"repaired {path}")
    n = len(repaired)
    print(f"{n} take{'' if n == 1 else 's'} repaired in {args.folder}")
    if folder_in_use(folder):
        print("the service running on this folder keeps its take log: restart it to list them")
        return 0
    if (folder / LOG_NAME).exists() or repaired:
        try:
            with TakeLog(folder) as takelog:
                result = reconcile(takelog, repaired)
        except OSError as exc:
            raise CLIError(f"{folder / LOG_NAME}: {exc.strerror or exc}") from None
        for line in result.changes:
            print(f"take log: {line}")
        for line in result.warnings:
            print(f"take log: {line}", file=sys.stderr)
    return 0
