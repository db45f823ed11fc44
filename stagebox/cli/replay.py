"""`stagebox replay`: run the stage engine over a recorded or generated stage feed.

The engine is a deterministic function of its input audio, so a feed captured on the stage
(LTC and microphones in one multichannel WAV) replays to exactly the takes the live run wrote,
as fast as the CPU allows. Engineers use it to see what happened on a pass; tests use it to
check punches to the sample.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stagebox.cli import CLIError
from stagebox.cli.argtypes import whole


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run the engine over a recorded stage feed")
    p.add_argument("feed", metavar="FEED.wav", help="multichannel stage feed (LTC + mics)")
    p.add_argument("--cues", required=True, metavar="CUES", help="cue sheet")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the takes")
    p.add_argument("--ltc-channel", type=whole, metavar="N", help="LTC channel (from 1)")
    p.add_argument(
        "--mic-channel", type=whole, action="append", metavar="N", help="mic channel (from 1)"
    )
    p.add_argument("--mode", choices=("record", "rehearse"), default="record")
    p.add_argument("--events-out", metavar="EVENTS.jsonl", help="write the engine's events")
    p.add_argument("--playback-out", metavar="PHONES.wav", help="write the headphone feed")
    p.add_argument("--config", metavar="FILE", help="stagebox.toml (default: built-in defaults)")
    p.add_argument("--period", type=whole, default=256, metavar="FRAMES", help="audio period")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stagebox.replay import ReplayError, replay

    try:
        result = replay(
            Path(args.feed),
            cues=Path(args.cues),
            out=Path(args.out),
            ltc_channel=args.ltc_channel,
            mic_channels=args.mic_channel,
            mode=args.mode,
            events_out=Path(args.events_out) if args.events_out else None,
            playback_out=Path(args.playback_out) if args.playback_out else None,
            config=Path(args.config) if args.config else None,
            period=args.period,
        )
    except ReplayError as exc:
        raise CLIError(str(exc)) from None
    for take in result.takes:
        print(
            f"{take['file']}: cue {take['cue']} take {take['take']}, "
            f"{take['tc_in']} .. {take['tc_out']}, {take['frames']} samples"
            + (f"  ({take['note']})" if take.get("note") else "")
        )
    seconds = result.samples / result.sample_rate
    print(
        f"replayed {seconds:.1f} s of audio in {result.elapsed:.2f} s "
        f"({seconds / max(result.elapsed, 1e-9):.0f}x real time): {len(result.takes)} takes",
        file=sys.stderr,
    )
    return 0
