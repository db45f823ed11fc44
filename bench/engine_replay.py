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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The measurement is shared with `stagebox doctor --bench`, so a Pi's own numbers and these
# are the same code.
from stagebox.doctor.bench import SR, decoder_cpu_pct, engine_cpu_pct, stage_feed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--period", type=int, default=256, help="samples per engine period")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    feed, audio = stage_feed(passes=args.passes)
    seconds = len(audio) / SR
    n = args.period
    engine_pct, decoder_pct = [], []
    for _ in range(args.repeat):
        engine_pct.append(engine_cpu_pct(feed, audio, n))
        decoder_pct.append(decoder_cpu_pct(audio[:, feed.ltc_channel].copy(), n))
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
