"""`stagebox take ...`: look at takes, circle them, repair a folder after a crash."""

from __future__ import annotations

import argparse
import logging

from stagebox.bwf import TakeError, read_take_metadata, repair_takes, update_take_metadata
from stagebox.cli import CLIError
from stagebox.timecode import Timecode
from stagebox.wavfile import WavError, read_wav_info


def register(sub: argparse._SubParsersAction) -> None:
    take = sub.add_parser("take", help="inspect, circle and repair recorded takes")
    cmds = take.add_subparsers(dest="take_command", metavar="ACTION")
    cmds.required = True

    info = cmds.add_parser("info", help="print a take's format, timecode stamp and metadata")
    info.add_argument("files", nargs="+", metavar="TAKE.wav")
    info.set_defaults(func=run_info)

    circle = cmds.add_parser("circle", help="circle (or uncircle) a take, set its note")
    circle.add_argument("file", metavar="TAKE.wav")
    circle.add_argument("--off", action="store_true", help="uncircle instead")
    circle.add_argument("--note", metavar="TEXT", help="replace the take's note")
    circle.set_defaults(func=run_circle)

    repair = cmds.add_parser("repair", help="finish takes a crash left open in a folder")
    repair.add_argument("folder")
    repair.set_defaults(func=run_repair)


def describe(path: str) -> list[str]:
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
        f"  take       {meta.take}{'  (circled)' if meta.circled else ''}",
        f"  note       {meta.note}",
        f"  tracks     {', '.join(t.name for t in meta.tracks)}",
        f"  recorded   {meta.origination_date} {meta.origination_time} by {meta.originator}",
    ]
    if not info.header_consistent:
        lines.append("  warning    header sizes do not match the file (run `stagebox take repair`)")
    return lines


def run_info(args: argparse.Namespace) -> int:
    for path in args.files:
        try:
            print("\n".join(describe(path)))
        except (WavError, OSError) as exc:
            raise CLIError(str(exc)) from None
    return 0


def run_circle(args: argparse.Namespace) -> int:
    try:
        meta = update_take_metadata(args.file, circled=not args.off, note=args.note)
    except (WavError, TakeError, OSError) as exc:
        raise CLIError(str(exc)) from None
    state = "circled" if meta.circled else "not circled"
    print(f"{args.file}: {state}" + (f", note: {meta.note}" if meta.note else ""))
    return 0


def run_repair(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        repaired = repair_takes(args.folder)
    except OSError as exc:
        raise CLIError(f"{args.folder}: {exc.strerror or exc}") from None
    for path in repaired:
        print(f"repaired {path}")
    print(f"{len(repaired)} take(s) repaired in {args.folder}")
    return 0
