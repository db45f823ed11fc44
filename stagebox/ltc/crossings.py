"""The fast path for clean LTC: transitions as the signal's zero crossings, hop by hop.

Clean LTC (a generator's output, a good recording, a file) is a square wave centred on zero:
every transition is one steep crossing of zero, and nothing else crosses. There its
transitions are found with a handful of passes over the samples (sign, change of sign, the
crossings' sample pairs), and each is placed to a fraction of a sample by linear
interpolation between the two samples either side of zero. That is about a third of the
work of the step detector in `edges.py`, which is built for everything else: noise, hum,
DC, filtering, quiet signals.

So each hop is first tried here, and it is *clean* only if every crossing in it proves
itself, against the signal's two levels either side of it (the samples `reach` before and
after its pair, on the plateaus of the square wave):
- centred: the two levels balance about zero (no DC, no hum to speak of, here);
- steep: the step between the crossing's two samples is a good part of the step between the
  levels (a transition, not a slope or noise wandering across zero), and the levels differ
  (not silence);
- spaced: the interval from the crossing before (in this hop or the one before) is as long
  as a half or whole cell can be.
A hop with no crossing is not clean either. A hop that is not clean goes to the step
detector, which then gives its transitions, and so do the next clean ones until
`decoder.CLEAN_STREAK` are clean in a row (`decoder.LTCDecoder._find_step`). The decision
uses only the hop's own samples (and `reach` + 1 either side) and the time of the crossing
before it, so it never depends on how the stream was cut into blocks. Every test is local,
to the crossing: no pass over the hop beyond finding the crossings.

A crossing between samples c and c + 1 belongs to the hop holding sample c + 1.
"""

from __future__ import annotations

import numpy as np

from stagebox.ltc.samples import scaled

STEEP = 0.25  # of the step between the levels: the least step across a crossing's pair
CENTRE = 0.15  # of the step between the levels: the most their mean may be off zero
FLOOR = 2e-4  # a step between the levels below this (about -80 dBFS) is silence
GAP_MIN = 0.4  # of the shortest bit cell: shorter intervals are noise (a half cell is 0.5)
GAP_MAX = 1.25  # of the longest bit cell: longer intervals are a dropout or no LTC


class CrossingFinder:
    """Zero crossings of the raw signal, and which hops they prove clean.

    `find(x, first, hops)` takes raw samples `x` (as the decoder keeps them: float32 or
    signed integers, `samples.scaled`) covering absolute samples
    `[first - pad, first + hops * hop + pad)` and returns the crossings in those hops (times
    in fractional absolute samples, signs +1 rising and -1 falling, the hop each belongs to,
    counted from `first`) and a bool per hop: clean.
    """

    def __init__(self, sample_rate: int, hop: int, cell_min: float, cell_max: float):
        if hop & (hop - 1):
            raise ValueError(f"hop {hop} must be a power of two")
        self.hop = hop  # samples
        self._hop_shift = hop.bit_length() - 1  # index >> this: its hop
        # Samples from a crossing's pair to the levels either side: past the edge's rise
        # (25 us, 1.2 samples at 48 kHz) and well inside the shortest half cell.
        self.reach = max(2, round(2 * sample_rate / 48000))
        self.pad = self.reach + 1  # samples `find` needs either side of the hops
        # x indices, from a crossing's j, of: the pair's first and second sample, the level
        # before it and the level after it
        first_of_pair = self.pad - 1
        self._around = [first_of_pair + k for k in (0, 1, -self.reach, 1 + self.reach)]
        self.gap_min = GAP_MIN * cell_min  # samples
        self.gap_max = GAP_MAX * cell_max  # samples
        self._signs = _alternating(2 * hop)  # +1, -1, ...: grown when a call needs more
        self.reset()

    def reset(self) -> None:
        self._last_t = np.nan  # samples: the last crossing found (NaN: none yet)

    def find(self, x: np.ndarray, first: int, hops: int):
        """(t, s, hop, clean) for hops [first, first + hops * hop); x from first - pad."""
        p = self.pad
        n_out = hops * self.hop
        neg = x[p - 1 : p + n_out] < 0  # (not signbit: -0.0 and 0.0 are one side of zero)
        j = (neg[1:] != neg[:-1]).nonzero()[0]  # crossing between samples j-1 and j of the hops
        # The pair's two samples and the levels `reach` before and after it: each a gather
        # of j from x shifted by its offset (no index arithmetic over the crossings).
        y0, y1, before, after = (scaled(x[k:].take(j)) for k in self._around)
        step = y1 - y0  # never 0: one of the two is below zero, the other not
        t = (first - 1 + j) + y0 / -step
        levels = np.abs(after - before)
        d = np.empty_like(t)  # samples: interval from the crossing before
        if t.size:
            d[0] = t[0] - self._last_t  # NaN for the first crossing ever: not good
            np.subtract(t[1:], t[:-1], out=d[1:])
            self._last_t = t[-1]
        good = (
            (np.abs(step) >= STEEP * levels)
            & (np.abs(after + before) <= CENTRE * levels)
            & (levels >= FLOOR)
            & (d >= self.gap_min)
            & (d <= self.gap_max)
        )
        hk = j >> self._hop_shift  # the hop holding the pair's second sample
        clean = np.zeros(hops, dtype=bool)
        clean[hk] = True  # a hop with no crossing: no LTC
        clean[hk[~good]] = False
        # +1 rising, -1 falling: the crossings of one signal alternate, so their signs are
        # a slice of +1, -1, ... from the first's (rising if its first sample is below zero)
        if t.size >= self._signs.size:
            self._signs = _alternating(2 * t.size)
        k = int(y0[0] >= 0) if t.size else 0
        s = self._signs[k : k + t.size]
        return t, s, hk, clean


def _alternating(n: int) -> np.ndarray:
    """+1, -1, +1, ... (n of them, int8), read-only: `find` hands out slices of it."""
    signs = np.resize(np.array([1, -1], dtype=np.int8), n)
    signs.flags.writeable = False
    return signs
