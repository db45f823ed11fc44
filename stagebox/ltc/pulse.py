"""The pulse conditioning (`decoder.py`, step 1): where it runs, and which of its frames count.

It costs as much again as the step conditioning, and only differentiated LTC needs it, so it
runs only on the hops where the step conditioning is not locked (`unlocked_runs`); and its
frames count only where the raw signal is spiky, as differentiated LTC is (`spiky`).
"""

from __future__ import annotations

import bisect

import numpy as np

from stagebox.ltc.framer import HALVES, Candidates
from stagebox.ltc.samples import scaled

SPIKY = 0.5  # a pulse-conditioning frame is kept where median |x| < this x its 90th pct


def unlocked_runs(
    ends: list[float], first: int, hops: int, hop: int, lock_hold: float, fly_delay: float
) -> list[tuple[int, int]]:
    """Runs [k, end) of the `hops` hops of `hop` samples from `first` on which the step
    conditioning is not locked: of its frames' stream ends (`ends`, sorted, samples), fewer
    than three lie between `lock_hold` and `fly_delay` samples before the hop's start (the
    frames it had found before the hop began: so batching hops changes nothing)."""
    if hops < 8:  # streaming: a hop or two per call, plain Python is cheapest
        starts = [first + k * hop for k in range(hops)]
        lo = [bisect.bisect_left(ends, t - lock_hold) for t in starts]
        hi = [bisect.bisect_left(ends, t - fly_delay) for t in starts]
        wanted = [b - a < 3 for a, b in zip(lo, hi, strict=True)]
        if not any(wanted):
            return []  # locked (the usual case)
        wanted = np.array(wanted)
    else:
        starts = first + hop * np.arange(hops)
        ends = np.asarray(ends)
        lo = np.searchsorted(ends, starts - lock_hold, side="left")
        hi = np.searchsorted(ends, starts - fly_delay, side="left")
        wanted = hi - lo < 3
    if not wanted.any():
        return []
    change = np.flatnonzero(np.diff(np.concatenate([[0], wanted, [0]]).astype(np.int8)))
    return list(zip(change[0::2].tolist(), change[1::2].tolist(), strict=True))


def spiky(
    cand: Candidates | None, buf: np.ndarray, buf_start: int, buf_len: int
) -> Candidates | None:
    """The pulse conditioning's frames over which the raw signal (`buf`, the decoder's:
    buf[0] at absolute sample `buf_start`, `buf_len` valid) is spiky, as differentiated LTC
    is: its median level under SPIKY times its 90th percentile (a square wave's is about 1,
    with noise, clicks or filtering 0.75 or more; the Zoom F6 + VXLR takes' 0.06 to 0.31).
    On square-wave LTC the pulse conditioning integrates the steps into ramps and finds every
    transition about a detector width late: its frames there would be as late (6 samples at
    48 kHz), where the step conditioning and the flywheel read them right."""
    if cand is None:
        return None
    keep = []
    for i, (t0, half) in enumerate(zip(cand.t0.tolist(), cand.half.tolist(), strict=True)):
        lo = max(int(t0) - buf_start, 0)
        hi = min(int(t0 + HALVES * half) + 1 - buf_start, buf_len)
        level = np.abs(scaled(buf[lo:hi]))
        if level.size < 2:
            continue
        mid, p90 = np.partition(level, [level.size // 2, (9 * level.size) // 10])[
            [level.size // 2, (9 * level.size) // 10]
        ]
        if mid < SPIKY * p90:
            keep.append(i)
    if len(keep) == len(cand):
        return cand
    return cand.take(np.array(keep, dtype=np.int64)) if keep else None
