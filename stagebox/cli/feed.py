"""`stagebox feed OUT.wav`: write a simulated stage feed (looping LTC + an actor) to a WAV.

The file is what the HAT would capture on a stage, for `stagebox replay` and for trying the
engine without a DAW. The truth (where each pass's TC-in frame starts) is printed, so the
takes a replay makes can be checked sample by sample.
"""

from __future__ import annotations

import argparse
import sys

from stagebox.cli import CLIError
from stagebox.cli.argtypes import number, whole
from stagebox.cli.ltc import rate_from_args
from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import WRAPS, Dropout, StageFeed
from stagebox.timecode import Rate, Timecode, TimecodeError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feed", help="write a simulated stage feed (LTC loop + actor) to a WAV")
    p.add_argument("out", metavar="OUT.wav")
    p.add_argument(
        "--cue",
        action="append",
        required=True,
        metavar="[NUM=]IN-OUT",
        help="a cue's TC-in and TC-out, e.g. 101=01:00:10:00-01:00:12:12 (repeatable)",
    )
    p.add_argument("--fps", required=True, metavar="RATE", help="23.976, 24, 25, 29.97, 30")
    p.add_argument("--drop-frame", action="store_true", help="drop-frame labels (29.97, 30)")
    p.add_argument("--rate", type=whole, default=48000, metavar="HZ", help="sample rate")
    p.add_argument("--passes", type=whole, default=3)
    p.add_argument("--preroll", type=number, default=4.0, metavar="S")
    p.add_argument("--postroll", type=number, default=2.0, metavar="S")
    p.add_argument(
        "--wrap",
        choices=WRAPS,
        default="instant",
        help="instant loop wrap, or stop and relocate with silence between passes",
    )
    p.add_argument("--gap", type=number, default=1.0, metavar="S", help="relocate silence")
    p.add_argument(
        "--dropout",
        action="append",
        default=[],
        metavar="PASS:AT:LENGTH",
        help="mute the LTC LENGTH s from AT s into pass PASS (from 1; repeatable)",
    )
    p.add_argument("--speed", type=number, default=1.0, help="LTC varispeed, 1.0 = real time")
    p.add_argument(
        "--guide",
        action="store_true",
        help="a third channel with the DAW's guide track (each cue's line on time); the actor "
        "then speaks that line on every pass (audio.guide_channel = 3 on the stage)",
    )
    p.add_argument(
        "--late",
        type=late_list,
        default=(),
        metavar="S[,S...]",
        help="seconds the actor is late on pass 1, 2, ... (e.g. 0,0.12,0: 3 frames late on "
        "pass 2 at 25 fps); with --guide",
    )
    p.add_argument("--lead-in", type=number, default=0.5, metavar="S", help="silence before")
    p.add_argument(
        "--tail", type=number, default=1.0, metavar="S", help="silence after the last pass"
    )
    p.add_argument("--bits", type=whole, choices=(16, 24), default=24)
    p.add_argument("--seed", type=whole, default=0)
    p.set_defaults(func=run)


def parse_cue(text: str, index: int, rate: Rate) -> Cue:
    number, _, span = text.rpartition("=")
    tc_in, sep, tc_out = span.partition("-")
    if not sep:
        raise CLIError(f"--cue {text!r}: expected [NUMBER=]TC_IN-TC_OUT")
    try:
        return Cue(
            number or str(index + 1), Timecode.parse(tc_in, rate), Timecode.parse(tc_out, rate)
        )
    except TimecodeError as exc:
        raise CLIError(f"--cue {text!r}: {exc}") from None


def late_list(text: str) -> tuple[float, ...]:
    """`--late 0,0.12,0`: seconds the actor is late on each pass, in pass order."""
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected seconds per pass, e.g. 0,0.12,0"
        ) from None
    if any(not 0 <= v <= 10 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each lateness must be 0..10 s")
    return values


def parse_dropout(text: str) -> Dropout:
    try:
        pass_no, at, length = text.split(":")
        return Dropout(int(pass_no) - 1, float(at), float(length))
    except ValueError:
        raise CLIError(f"--dropout {text!r}: expected PASS:AT:LENGTH, e.g. 2:3.5:0.4") from None


def run(args: argparse.Namespace) -> int:
    rate = rate_from_args(args.fps, args.drop_frame)
    if not 8000 <= args.rate <= 192000:
        raise CLIError(f"--rate {args.rate} Hz is outside 8000..192000")
    if not 0.5 <= args.speed <= 2.0:
        raise CLIError(f"--speed {args.speed} is outside 0.5..2.0")
    cues = [parse_cue(text, i, rate) for i, text in enumerate(args.cue)]
    dropouts = [parse_dropout(text) for text in args.dropout]
    for d in dropouts:
        if not 0 <= d.pass_index < args.passes:
            raise CLIError(f"--dropout: pass {d.pass_index + 1} is not one of 1..{args.passes}")
    if args.late and not args.guide:
        raise CLIError("--late needs --guide: the actor is late against the guide's line")
    if len(args.late) > args.passes:
        raise CLIError(f"--late gives {len(args.late)} passes, the feed has {args.passes}")
    guide = {"channels": 3, "guide_channel": 2, "same_line": True} if args.guide else {}
    try:
        feed = StageFeed(
            cues,
            sample_rate=args.rate,
            passes=args.passes,
            preroll=args.preroll,
            postroll=args.postroll,
            wrap=args.wrap,
            relocate_gap=args.gap,
            dropouts=dropouts,
            speed=args.speed,
            seed=args.seed,
            lead_in=args.lead_in,
            tail=args.tail,
            late=args.late,
            **guide,
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    try:
        frames = feed.write_wav(args.out, bits=args.bits)
    except FileExistsError:
        raise CLIError(f"{args.out} exists: a feed never overwrites a file") from None
    except OSError as exc:
        raise CLIError(f"{args.out}: {exc.strerror or exc}") from None
    print(
        f"{args.out}: {frames / args.rate:.2f} s, {args.rate} Hz, {args.bits}-bit, "
        f"channel 1 = mic, channel 2 = LTC ({rate}), "
        + ("channel 3 = guide, " if args.guide else "")
        + f"loop {feed.loop_start} to "
        f"{feed.loop_end}",
        file=sys.stderr,
    )
    for p in feed.passes:
        punches = ", ".join(
            f"cue {c.number} TC-in {c.tc_in} at sample {p.tc_in_sample(c.number)}"
            for c in feed.cues
        )
        print(f"pass {p.index + 1}: {punches}")
    return 0
