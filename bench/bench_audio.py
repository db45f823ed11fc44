"""Audio seam costs: sample-format conversion per period, stage-feed generation, sim backend
throughput. Run: .venv/bin/python bench/bench_audio.py"""

from __future__ import annotations

import time

import numpy as np

from stagebox.audio import EndOfFeed, pcmformat
from stagebox.sim.audio import SimBackend
from stagebox.sim.stagefeed import StageFeed
from stagebox.timecode import RATE_2997DF, Timecode


def per_call(fn, n):
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    period, channels, rate = 256, 2, 48000
    period_s = period / rate
    rng = np.random.default_rng(0)
    block = rng.uniform(-1, 1, size=(period, channels)).astype(np.float32)
    for name in pcmformat.FORMATS:
        fmt = pcmformat.FORMATS[name]
        raw = pcmformat.encode(block, fmt)
        dec = per_call(lambda fmt=fmt, raw=raw: pcmformat.decode(raw, fmt, channels), 20000)
        enc = per_call(lambda fmt=fmt: pcmformat.encode(block, fmt), 20000)
        print(
            f"{name:8s} decode {dec * 1e6:6.1f} us  encode {enc * 1e6:6.1f} us per "
            f"{period}x{channels} period ({100 * (dec + enc) / period_s:.2f} % of the period)"
        )
    cue = (Timecode.parse("01:00:10;00", RATE_2997DF), Timecode.parse("01:00:15;00", RATE_2997DF))
    feed = StageFeed([cue], passes=3, preroll=4, postroll=2)
    seconds = feed.length / feed.sample_rate
    start = time.perf_counter()
    feed.render_all()
    took = time.perf_counter() - start
    print(
        f"StageFeed: {seconds:.1f} s of 29.97df feed in {took:.2f} s "
        f"({seconds / took:.0f}x real time)"
    )
    backend = SimBackend(feed.fresh(), period=period)
    start = time.perf_counter()
    with backend:
        n = 0
        silence = np.zeros((period, 2), np.float32)
        while True:
            try:
                backend.read()
            except EndOfFeed:
                break
            backend.write(silence)
            n += 1
    took = time.perf_counter() - start
    print(
        f"sim backend: {n} periods read+written in {took:.2f} s "
        f"({seconds / took:.0f}x real time, feed generation included)"
    )


if __name__ == "__main__":
    main()
