"""Benchmark: stagebox's LTC decoder against libltc's C decoder, and its streaming cost.

    .venv/bin/python bench/ltc_decode.py [--minutes 30] [--stream-seconds 60]

1. Bulk: the same 30 minutes of 25 fps LTC at 48 kHz (our encoder, float32) decoded by
   libltc (ctypes, 1 Mi-sample blocks) and by `LTCDecoder` (1 Mi-sample blocks), in the same
   run; CPU seconds and the ratio ours / libltc are printed.
2. Streaming: `LTCDecoder.decode` fed 256-sample int16 blocks, as the engine's ALSA capture
   does; CPU seconds per second of audio, as a percentage of one core.

The bulk ratio is the in-process figure only, and it flatters ours: libltc is driven from
Python through ctypes, a call per block written and per frame read, and those calls are
counted as libltc's time. libltc in C is faster than that: the figure for the command as a
user runs it, against a C program on libltc reading the same WAV, is bench/ltc_decode_cli.py.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import libltc  # noqa: E402  (tests/libltc.py: libltc through ctypes)

from stagebox.ltc import LTCDecoder, LTCEncoder  # noqa: E402
from stagebox.timecode import Rate, Timecode  # noqa: E402

SR = 48000
BLOCK = 1 << 20  # samples per call in bulk
LIBLTC_BLOCK = 1 << 16  # libltc queues at most 64 frames between reads: 1.4 s at 25 fps


def make_ltc(minutes: float) -> np.ndarray:
    rate = Rate.parse("25")
    enc = LTCEncoder(SR, rate)
    enc.locate(Timecode.parse("01:00:00:00", rate), at=0)
    n = int(minutes * 60 * SR)
    out = np.empty(n, dtype=np.float32)
    for pos in range(0, n, BLOCK):
        out[pos : pos + BLOCK] = enc.render(min(BLOCK, n - pos))
    return out


def bulk(sig: np.ndarray) -> None:
    expected = int(sig.size / 1920) - 1
    lib = libltc.load()
    t = time.process_time()
    ref = libltc.decode(sig, 1920, block=LIBLTC_BLOCK, lib=lib)
    t_lib = time.process_time() - t
    t = time.process_time()
    dec = LTCDecoder(SR)
    n = 0
    for pos in range(0, sig.size, BLOCK):
        n += len(dec.decode(sig[pos : pos + BLOCK]))
    n += len(dec.flush())
    t_ours = time.process_time() - t
    minutes = sig.size / SR / 60
    print(f"bulk, {minutes:.0f} min of 25 fps LTC at 48 kHz ({sig.size} samples):")
    print(f"  libltc  {len(ref):6d} frames  {t_lib:7.2f} s CPU")
    print(
        f"  ours    {n:6d} frames  {t_ours:7.2f} s CPU  (ratio ours/libltc {t_ours / t_lib:.2f}, "
        "in-process: libltc through ctypes)"
    )
    if n < expected:
        print(f"  WARNING: expected at least {expected} frames")


def streaming(seconds: float) -> None:
    sig = make_ltc(seconds / 60)
    pcm = np.round(sig * 32767).astype(np.int16)
    dec = LTCDecoder(SR)
    n = 0
    t = time.process_time()
    for pos in range(0, pcm.size, 256):
        n += len(dec.decode(pcm[pos : pos + 256]))
    n += len(dec.flush())
    cpu = time.process_time() - t
    print(f"streaming, 256-sample int16 blocks, {seconds:.0f} s at 48 kHz: {n} frames")
    print(f"  {cpu:.3f} s CPU = {100 * cpu / seconds:.2f} % of one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    streaming(args.stream_seconds)
    bulk(make_ltc(args.minutes))


if __name__ == "__main__":
    main()
