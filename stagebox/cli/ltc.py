"""`stagebox ltc ...`: generate LTC to a WAV file (and decode it back: see `decode`)."""

from __future__ import annotations

import argparse
import sys
import wave

import numpy as np

from stagebox.cli import CLIError
from stagebox.ltc.encoder import DEFAULT_LEVEL_DBFS, LTCEncoder
from stagebox.timecode import Rate, Timecode, TimecodeError


def register(sub: argparse._SubParsersAction) -> None:
    ltc = sub.add_parser("ltc", help="generate and decode LTC audio")
    cmds = ltc.add_subparsers(dest="ltc_command", metavar="ACTION")
    cmds.required = True

    gen = cmds.add_parser("generate", help="write LTC to a WAV file")
    gen.add_argument("out", metavar="OUT.wav")
    gen.add_argument("--start", required=True, metavar="TC", help="first frame, HH:MM:SS:FF")
    gen.add_argument("--fps", required=True, metavar="RATE", help="23.976, 24, 25, 29.97, 30")
    gen.add_argument("--drop-frame", action="store_true", help="drop-frame labels (29.97, 30)")
    gen.add_argument("--seconds", type=float, required=True, metavar="S")
    gen.add_argument("--rate", type=int, default=48000, metavar="HZ", help="sample rate")
    gen.add_argument("--level", type=float, default=DEFAULT_LEVEL_DBFS, metavar="DBFS")
    gen.add_argument("--user-bits", type=lambda s: int(s, 0), default=0, metavar="N")
    gen.set_defaults(func=run_generate)


def rate_from_args(fps: str, drop_frame: bool) -> Rate:
    try:
        rate = Rate.parse(fps)
    except TimecodeError as exc:
        raise CLIError(str(exc)) from None
    if drop_frame and not rate.drop_frame:
        if rate.nominal != 30:
            raise CLIError(f"--drop-frame needs a 30-frame rate (29.97 or 30), not {fps}")
        rate = Rate.parse(f"{rate.name}df")
    return rate


def run_generate(args: argparse.Namespace) -> int:
    rate = rate_from_args(args.fps, args.drop_frame)
    if args.seconds <= 0:
        raise CLIError(f"--seconds must be positive, not {args.seconds}")
    if not 8000 <= args.rate <= 192000:
        raise CLIError(f"--rate {args.rate} Hz is outside 8000..192000")
    try:
        start = Timecode.parse(args.start, rate)
    except TimecodeError as exc:
        raise CLIError(f"--start: {exc}") from None
    encoder = LTCEncoder(args.rate, rate, level_dbfs=args.level, user_bits=args.user_bits)
    encoder.locate(start, at=0)
    n = int(round(args.seconds * args.rate))
    pcm = np.round(encoder.render(n) * 32767).astype("<i2")
    try:
        with wave.open(args.out, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(args.rate)
            out.writeframes(pcm.tobytes())
    except OSError as exc:
        raise CLIError(f"{args.out}: {exc.strerror or exc}") from None
    frames = sum(1 for f in encoder.emitted if f.end <= n)
    print(
        f"{args.out}: {frames} frames of {rate} LTC from {start}, {args.rate} Hz", file=sys.stderr
    )
    return 0
