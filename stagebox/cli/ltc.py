"""`stagebox ltc ...`: generate LTC to a WAV file, and decode the LTC in a WAV file."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import wave

import numpy as np

from stagebox.cli import CLIError
from stagebox.cli.argtypes import number, whole
from stagebox.ltc.decoder import LTCDecoder
from stagebox.ltc.encoder import DEFAULT_LEVEL_DBFS, LTCEncoder
from stagebox.ltc.frame import LTCFrame
from stagebox.timecode import RATES, Rate, Timecode, TimecodeError


def register(sub: argparse._SubParsersAction) -> None:
    ltc = sub.add_parser("ltc", help="generate and decode LTC audio")
    cmds = ltc.add_subparsers(dest="ltc_command", metavar="ACTION")
    cmds.required = True

    gen = cmds.add_parser("generate", help="write LTC to a WAV file")
    gen.add_argument("out", metavar="OUT.wav")
    gen.add_argument("--start", required=True, metavar="TC", help="first frame, HH:MM:SS:FF")
    gen.add_argument("--fps", required=True, metavar="RATE", help="23.976, 24, 25, 29.97, 30")
    gen.add_argument("--drop-frame", action="store_true", help="drop-frame labels (29.97, 30)")
    gen.add_argument("--seconds", type=number, required=True, metavar="S")
    gen.add_argument("--rate", type=whole, default=48000, metavar="HZ", help="sample rate")
    gen.add_argument("--level", type=number, default=DEFAULT_LEVEL_DBFS, metavar="DBFS")
    gen.add_argument("--user-bits", type=lambda s: int(s, 0), default=0, metavar="N")
    gen.set_defaults(func=run_generate)

    dec = cmds.add_parser(
        "decode",
        help="print the LTC frames in a WAV file",
        description="Decode the LTC in one channel of a WAV file: one line per frame "
        "(timecode, start and end sample, R when played backwards) on stdout, a summary on "
        "stderr.",
    )
    dec.add_argument("file", metavar="FILE.wav")
    dec.add_argument("--channel", type=whole, default=1, metavar="N", help="channel, from 1")
    dec.add_argument("--json", action="store_true", help="one JSON object per frame")
    dec.set_defaults(func=run_decode)


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
    if not 0 < args.seconds <= MAX_GENERATE_SECONDS:
        raise CLIError(f"--seconds {args.seconds:g} is outside 0..{MAX_GENERATE_SECONDS}")
    if not 8000 <= args.rate <= 192000:
        raise CLIError(f"--rate {args.rate} Hz is outside 8000..192000")
    try:
        start = Timecode.parse(args.start, rate)
    except TimecodeError as exc:
        raise CLIError(f"--start: {exc}") from None
    encoder = LTCEncoder(args.rate, rate, level_dbfs=args.level, user_bits=args.user_bits)
    encoder.locate(start, at=0)
    n = int(round(args.seconds * args.rate))
    try:
        with wave.open(args.out, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(args.rate)
            for done in range(0, n, args.rate):  # a second at a time: memory stays small
                block = encoder.render(min(args.rate, n - done))
                out.writeframes(np.round(block * 32767).astype("<i2").tobytes())
    except OSError as exc:
        raise CLIError(f"{args.out}: {exc.strerror or exc}") from None
    frames = sum(1 for f in encoder.emitted if f.end <= n)
    print(
        f"{args.out}: {frames} frames of {rate} LTC from {start}, {args.rate} Hz", file=sys.stderr
    )
    return 0


MAX_GENERATE_SECONDS = 3600  # an hour of LTC (a test signal, not a programme's length)
DECODE_BLOCK = 1 << 20  # samples read and decoded at a time (memory stays small on a Pi)


def run_decode(args: argparse.Namespace) -> int:
    from stagebox.wavfile import WavError, WavReader

    try:
        reader = WavReader(args.file)
    except WavError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"{args.file}: {exc.strerror or exc}") from None
    with reader:
        info = reader.info
        if not 1 <= args.channel <= info.channels:
            raise CLIError(
                f"{args.file}: no channel {args.channel} (the file has {info.channels}; "
                "channels count from 1)"
            )
        try:
            decoder = LTCDecoder(info.sample_rate)
        except ValueError as exc:
            raise CLIError(f"{args.file}: {exc}") from None
        frames: list[LTCFrame] = []
        out = sys.stdout
        for pos in range(0, reader.frames, DECODE_BLOCK):
            count = min(DECODE_BLOCK, reader.frames - pos)
            try:
                block = reader.read(pos, count, channels=[args.channel - 1])[:, 0]
            except WavError as exc:
                raise CLIError(str(exc)) from None
            found = decoder.decode(block, pos)
            _print_frames(found, args.json, out)
            frames.extend(found)
        found = decoder.flush()
        _print_frames(found, args.json, out)
        frames.extend(found)
    print(f"{args.file}: {summary(frames, info.sample_rate)}", file=sys.stderr)
    return 0


def frame_record(frame: LTCFrame) -> dict:
    """What `--json` prints for one frame."""
    return {
        "timecode": frame.label,
        "start": round(frame.start, 3),  # samples (fractional)
        "end": round(frame.end, 3),
        "reverse": frame.reverse,
        "drop_frame": frame.drop_frame,
        "colour_frame": frame.colour_frame,
        "user_bits": f"{frame.user_bits:08x}",
        "binary_group_flags": frame.binary_group_flags,
        "level_dbfs": round(frame.level, 1),
    }


def _print_frames(frames: list[LTCFrame], as_json: bool, out) -> None:
    for f in frames:
        if as_json:
            out.write(json.dumps(frame_record(f)) + "\n")
        else:
            # Like libltc's ltcdump: user bits, timecode, start and end sample.
            rev = " R" if f.reverse else ""
            out.write(
                f"{f.user_bits:08x}   {f.label} | {round(f.start):8d} {round(f.end):8d}{rev}\n"
            )


def detected_rate(frames: list[LTCFrame], sample_rate: int) -> Rate | None:
    """The standard rate nearest the median frame period (DF from the frames' flag)."""
    if not frames:
        return None
    period = statistics.median(abs(f.period) for f in frames)  # samples
    fps = sample_rate / period
    drop = statistics.median(1 if f.drop_frame else 0 for f in frames) >= 0.5
    best = min(RATES, key=lambda r: (abs(float(r.fps) - fps), r.drop_frame != drop))
    if abs(float(best.fps) - fps) > 0.005 * fps:
        return None  # off-speed: no standard rate within 0.5 %
    return best


def discontinuities(frames: list[LTCFrame], rate: Rate | None) -> int:
    """Label jumps: consecutive frames whose labels are not one frame apart (in the play
    direction of the later one)."""
    if rate is None or len(frames) < 2:
        return 0
    jumps = 0
    prev = None
    for f in frames:
        try:
            count = f.timecode(rate).frame_count
        except TimecodeError:
            count = None
        if prev is not None and count is not None:
            step = -1 if f.reverse else 1
            if (count - prev) % rate.frames_per_day != step % rate.frames_per_day:
                jumps += 1
        prev = count
    return jumps


def summary(frames: list[LTCFrame], sample_rate: int) -> str:
    if not frames:
        return "no LTC frames found"
    rate = detected_rate(frames, sample_rate)
    period = statistics.median(abs(f.period) for f in frames)
    fps = sample_rate / period
    rate_text = f"{rate} fps" if rate else f"{fps:.3f} fps (no standard rate)"
    reverse = sum(f.reverse for f in frames)
    text = (
        f"{len(frames)} frames, {frames[0].label} .. {frames[-1].label}, {rate_text}, "
        f"{discontinuities(frames, rate)} discontinuities"
    )
    if reverse:
        text += f", {reverse} played backwards"
    return text
