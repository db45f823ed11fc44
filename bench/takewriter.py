"""Benchmark: what recording a take costs the engine thread, and how fast the writer drains.

    .venv/bin/python bench/takewriter.py [--seconds 60] [--channels 2] [--folder /tmp]

Prints the engine-side cost of `TakeWriter.write()` per period (median and 99th percentile:
the copy into the queue), the writer thread's speed in multiples of real time (float -> 24-bit
conversion, write, fdatasync twice a second), and the reader's speed on the result.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from stagebox.takes.meta import TakeMetadata
from stagebox.takes.writer import TakeWriter
from stagebox.timecode import RATE_25
from stagebox.wavfile import WavReader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio to record")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--rate", type=int, default=48000)
    parser.add_argument("--period", type=int, default=256, help="frames per engine period")
    parser.add_argument("--folder", default=None, help="where to write (default: a temp dir)")
    parser.add_argument(
        "--paced", action="store_true", help="hand periods at real time, as the engine does"
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    block = rng.uniform(-0.5, 0.5, (args.period, args.channels)).astype(np.float32)
    periods = int(args.seconds * args.rate / args.period)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        path = Path(folder) / "bench.wav"
        writer = TakeWriter(queue_seconds=args.seconds + 1, disk_reserve_bytes=0).start()
        writer.open_take(path, args.rate, args.channels, 24, 0, TakeMetadata(rate=RATE_25)).result(
            5
        )
        costs = np.empty(periods)
        t0 = time.perf_counter()
        for i in range(periods):
            if args.paced:  # wait for the period's deadline, like an ALSA read would
                time.sleep(max(0.0, t0 + i * args.period / args.rate - time.perf_counter()))
            a = time.perf_counter()
            writer.write(block)
            costs[i] = time.perf_counter() - a
        handed = time.perf_counter() - t0
        writer.close_take().result(600)
        drained = time.perf_counter() - t0
        writer.stop()
        assert writer.status().dropped_frames == 0
        audio_s = periods * args.period / args.rate
        pacing = "paced at real time" if args.paced else "as fast as possible"
        print(f"{audio_s:.1f} s of {args.channels}-ch {args.rate} Hz audio, {pacing}")
        print(
            f"engine write(): median {np.median(costs) * 1e6:.1f} us, "
            f"p99 {np.percentile(costs, 99) * 1e6:.1f} us, max {costs.max() * 1e6:.0f} us "
            f"(period {args.period / args.rate * 1e6:.0f} us); all handed in {handed:.2f} s"
        )
        size = path.stat().st_size  # bytes
        if not args.paced:
            print(f"writer: {audio_s / drained:.0f}x real time ({size / drained / 1e6:.0f} MB/s)")
        t0 = time.perf_counter()
        with WavReader(path) as reader:
            frames = sum(len(b) for b in reader.blocks(65536))
        took = time.perf_counter() - t0
        print(f"reader: {frames / args.rate / took:.0f}x real time ({size / took / 1e6:.0f} MB/s)")


if __name__ == "__main__":
    main()
