"""Benchmark: what scoring a take's sync costs, for a 10 s cue (and longer ones).

    .venv/bin/python bench/sync_score.py [--seconds 10] [--runs 10] [--rate 48000]

The cue is the sync tests' corpus (tests/sync_corpus.py: espeak-ng lines, room noise, one
word late) laid end to end to the length asked for. Prints the CPU time (time.process_time,
one thread) of `score_take` per run: median, least and most, and the share spent in the
speech features and in the DTW.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import sync_corpus as corpus

from stagebox.sync import score_take
from stagebox.sync.dtw import banded_cost, dtw_path
from stagebox.sync.features import matched_cepstra, speech_features
from stagebox.timecode import RATE_25


def cue(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    guides, takes = [], []
    voices = [("en", 140), ("en+m3", 175), ("en-us+f3", 175)]
    total = 0.0
    k = 0
    while total < seconds:
        voice, speed = voices[k % len(voices)]
        g = corpus.guide_line(voice, speed)
        offsets = [0.0] * 9
        offsets[k % 9] = 0.12
        t = corpus.take_line(g, voice, speed, offsets)
        guides.append(g.audio)
        takes.append(t.audio)
        total += len(g.audio) / corpus.RATE
        k += 1
    n = int(seconds * corpus.RATE)
    guide = np.concatenate(guides)[:n]
    take = corpus.room(np.concatenate(takes)[:n], 1)
    return take.astype(np.float32), (0.5 * guide).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the cue")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    take, guide = cue(args.seconds)
    rate = corpus.RATE
    score_take(take, guide, rate, RATE_25)  # warm up (numpy, caches)
    totals, features, dtws = [], [], []
    for _ in range(args.runs):
        t0 = time.process_time()
        report = score_take(take, guide, rate, RATE_25)
        totals.append(time.process_time() - t0)
        t0 = time.process_time()
        g, t = speech_features(guide, rate), speech_features(take, rate)
        cg, ct = matched_cepstra(g, t)
        features.append(time.process_time() - t0)
        t0 = time.process_time()
        cost, start = banded_cost(cg, ct, 100)
        dtw_path(cost, start, t.frames, 0.05)
        dtws.append(time.process_time() - t0)
    med = statistics.median(totals)
    print(f"cue {args.seconds:g} s at {rate} Hz, {args.runs} runs: {report.message}")
    print(
        f"score_take CPU: median {med:.3f} s, least {min(totals):.3f} s, most {max(totals):.3f} s"
        f" ({med / args.seconds:.3f} s per second of cue)"
    )
    print(
        f"  of which features {statistics.median(features):.3f} s, "
        f"DTW (band +-1 s) {statistics.median(dtws):.3f} s"
    )


if __name__ == "__main__":
    main()
