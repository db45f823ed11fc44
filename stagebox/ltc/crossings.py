"""The fast path for clean LTC: transitions as the signal's zero crossings, hop by hop.

Clean LTC (a generator's output, a good recording, a file) is a square wave centred on zero:
every transition is one steep crossing of zero, and nothing else crosses. There its
transitions are found with a handful of passes over the samples (sign, change of sign, the
crossings' sample pairs), and each is placed to a fraction of a sample by linear
interpolation between the two samples either side of zero. That is about a third of the
work of the step detector in `edges.py`, which is built for everything else: noise, hum,
DC, filtering, quiet signals.

So each hop is first tried here, and it is *clean* only if the crossings prove it:
- the hop is centred on zero (its extremes balance: no DC, no hum to speak of) and not silent;
- every crossing in it is steep (a step of a good part of the hop's peak-to-peak swing
  between two samples: a transition, not noise wandering across zero);
- every interval between crossings (including the one from the hop before) is as long as a
  half or whole cell can be.
A hop that fails any of these goes to the step detector, which then gives its transitions
(`decoder.LTCDecoder._run_step`). The decision uses only the hop's own samples and the time of
the crossing before it, so it never depends on how the stream was cut into blocks.

A crossing between samples c and c + 1 belongs to the hop holding sample c + 1.
"""

from __future__ import annotations

import numpy as np

STEEP = 0.2  # of the hop's peak-to-peak swing: the least step across a crossing's two samples
CENTRE = 0.15  # of the hop's peak-to-peak swing: the most its extremes may be off centre
FLOOR = 2e-4  # peak-to-peak below this (about -80 dBFS) is silence, never clean
GAP_MIN = 0.4  # of the shortest bit cell: shorter intervals are noise (a half cell is 0.5)
GAP_MAX = 1.25  # of the longest bit cell: longer intervals are a dropout or no LTC


class CrossingFinder:
    """Zero crossings of the raw signal, and which hops they prove clean.

    `find(x, first, hops)` takes raw samples `x` covering absolute samples
    `[first - 1, first + hops * hop)` and returns the crossings in those hops (times in
    fractional absolute samples, signs +1 rising and -1 falling, the hop each belongs to,
    counted from `first`) and a bool per hop: clean.
    """

    def __init__(self, hop: int, cell_min: float, cell_max: float):
        if hop & (hop - 1):
            raise ValueError(f"hop {hop} must be a power of two")
        self.hop = hop  # samples
        self._hop_shift = hop.bit_length() - 1  # index >> this: its hop
        self.gap_min = GAP_MIN * cell_min  # samples
        self.gap_max = GAP_MAX * cell_max  # samples
        self.reset()

    def reset(self) -> None:
        self._last_t = np.nan  # samples: the last crossing found (NaN: none yet)

    def find(self, x: np.ndarray, first: int, hops: int):
        """(t, s, hop, clean) for hops [first, first + hops * hop); x starts at first - 1."""
        h = self.hop
        n_out = hops * h
        body = x[1 : 1 + n_out].reshape(hops, h)
        top = body.max(axis=1)
        bottom = body.min(axis=1)
        swing = top - bottom  # peak to peak, per hop
        clean = (np.abs(top + bottom) <= CENTRE * swing) & (swing >= FLOOR)
        neg = x[: 1 + n_out] < 0  # (not signbit: -0.0 and 0.0 are one side of zero)
        j = np.flatnonzero(neg[1:] != neg[:-1])  # crossing between x[j] and x[j + 1]
        y0 = x[j]
        y1 = x[j + 1]
        step = y1 - y0  # never 0: one of the two is below zero, the other not
        t = (first - 1 + j) + y0 / -step
        hk = j >> self._hop_shift  # the hop holding x[j + 1]
        d = np.empty_like(t)  # samples: interval from the crossing before
        if t.size:
            d[0] = t[0] - self._last_t  # NaN for the first crossing ever: not good
            np.subtract(t[1:], t[:-1], out=d[1:])
            self._last_t = t[-1]
        good = (np.abs(step) >= STEEP * swing[hk]) & (d >= self.gap_min) & (d <= self.gap_max)
        clean[hk[~good]] = False
        crossed = np.zeros(hops, dtype=bool)
        crossed[hk] = True
        clean &= crossed  # a hop with no crossing: no LTC
        s = np.sign(step).astype(np.int8)  # +1 rising, -1 falling
        return t, s, hk, clean
