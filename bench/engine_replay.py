"""Benchmark: the stage engine's cost per second of audio, as in a replay or a live run.

    .venv/bin/python bench/engine_replay.py [--passes 6] [--period 256] [--repeat 3]

A simulated stage feed (2 channels at 48 kHz: mic and LTC, one cue looped with pre-roll, in
record mode) is rendered first; then the engine (LTC decoder, clock, stage, punch recorder,
beeps) processes it period by period, exactly as `stagebox run` does, with the takes handed to
a sink that discards them (the disk is the writer thread's cost, measured by
bench/takewriter.py). CPU time of the engine alone is reported as a percentage of one core;
the LTC decoder alone on the same LTC channel is reported beside it, so the stage's own share
is visible. Target (DESIGN.md section 5): under 2 % of one core.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stagebox.audio.stagefeed import StageFeed  # noqa: E402
from stagebox.cues.cue import Cue  # noqa: E402
from stagebox.engine import Engine, EngineSettings  # noqa: E402
from stagebox.ltc.decoder import LTCDecoder  # noqa: E402
from stagebox.timecode import RATE_25, Timecode  # noqa: E402

SR = 48000


class DiscardSink:
    """Takes go nowhere: the engine's cost without the writer thread's."""

    def open_take(self, take) -> None:
        pass

    def write(self, block) -> None:
        pass

    def close_take(self, note: str = "") -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--period", type=int, default=256, help="samples per engine period")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    cue = Cue("101", Timecode.parse("01:00:10:00", RATE_25), Timecode.parse("01:00:14:00", RATE_25))
    feed = StageFeed([cue], sample_rate=SR, passes=args.passes, preroll=4.0, postroll=2.0)
    audio = feed.render_all()
    seconds = len(audio) / SR
    n = args.period
    engine_pct, decoder_pct = [], []
    for _ in range(args.repeat):
        engine = Engine(
            EngineSettings(SR, feed.ltc_channel, (feed.mic_channel,)),
            sink=DiscardSink(),
            cues=[cue],
            mode="record",
        )
        t0 = time.process_time()
        for pos in range(0, len(audio), n):
            engine.process(audio[pos : pos + n], pos)
        engine_pct.append(100 * (time.process_time() - t0) / seconds)
        decoder = LTCDecoder(SR)
        ltc = audio[:, feed.ltc_channel].copy()
        t0 = time.process_time()
        for pos in range(0, len(ltc), n):
            decoder.decode(ltc[pos : pos + n], pos)
        decoder_pct.append(100 * (time.process_time() - t0) / seconds)
    print(f"machine: {platform.machine()}, Python {sys.version.split()[0]}")
    print(f"feed: {seconds:.1f} s, 2 channels at {SR} Hz, {args.passes} passes; period {n}")
    # The least of the runs is the cost with the least interference from other jobs on a
    # shared machine; the median shows how noisy the run was.
    for name, runs in (("engine", engine_pct), ("decoder", decoder_pct)):
        print(
            f"{name + ':':8} least {min(runs):.2f} %, median {statistics.median(runs):.2f} % "
            f"of one core (runs: {', '.join(f'{x:.2f}' for x in runs)})"
        )
    print("target: engine under 2 % of one core")


if __name__ == "__main__":
    main()
