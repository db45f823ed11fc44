"""Reading a frame where it must be: matched-filter bit decisions on a predicted bit grid.

Once a frame has been decoded, the next one starts where it ended and has the same cell
length. When noise has broken the next frame's transitions (one spurious or missing
transition is enough to spoil the half/whole-cell count), the frame can still be read by
integrating the signal over each half cell of the predicted grid: the difference of the means
of two adjacent half cells is the matched filter for a biphase-mark transition, and it averages
noise over a whole half cell instead of trusting one detector peak.

Every bit is decided by the signs of its two cell-boundary transitions (they agree across a 1
and differ across a 0): each is a full-height step, so its sign is the surest thing in the
signal. The size of the mid-cell transition (a 1 has one) checks it independently. A frame is
read only if the two agree on all but MID_DISAGREE of the 80 bits, every boundary carries a
transition, and the sync word and BCD digits are right; its timing is refitted by least squares
on the transitions found near the grid.
"""

from __future__ import annotations

import numpy as np

from stagebox.ltc.frame import FRAME_BITS
from stagebox.ltc.framer import HALVES

_STEPS = np.arange(-1, HALVES + 2, dtype=np.float64)  # half cells, grid plus one each side
MID_DISAGREE = 2  # bits whose mid-cell evidence may disagree with the boundary signs
SNAP = 0.3  # of a half cell: transitions closer than this to a grid point refine the timing


def read_bits(x: np.ndarray, x_start: int, t0: float, half: float) -> np.ndarray | None:
    """The 80 bits (stream order) of the frame on the grid t0 + k * half, or None.

    `x` holds raw samples from absolute sample `x_start`; it must cover the frame and one
    half cell each side.
    """
    lo = int(np.floor(t0 - 2 * half)) - 1
    hi = int(np.ceil(t0 + (HALVES + 2) * half)) + 2
    if lo < x_start or hi > x_start + x.size:
        return None
    seg = x[lo - x_start : hi - x_start]
    cs = np.empty(seg.size + 1)
    cs[0] = 0.0
    np.cumsum(seg, dtype=np.float64, out=cs[1:])
    # cs[k] sums samples before index k: a boundary at time tau sits at index tau + 0.5.
    pos = t0 + _STEPS * half + 0.5 - lo
    s = np.interp(pos, np.arange(cs.size, dtype=np.float64), cs)
    e = (s[2:] - 2.0 * s[1:-1] + s[:-2]) * (1.0 / half)  # at grid points 0..160
    bound = e[0::2]  # 81 cell boundaries
    mid = e[1::2]  # 80 cell middles
    size = np.abs(bound)
    typical = np.median(size)
    # The first and last boundaries may be steps from or into silence: half height.
    floor = np.full(size.size, 0.35 * typical)
    floor[[0, -1]] = 0.2 * typical
    if typical <= 0 or (size < floor).any():
        return None
    by_sign = (bound[1:] > 0) == (bound[:-1] > 0)
    by_mid = np.abs(mid) > 0.25 * (size[:-1] + size[1:])
    if np.count_nonzero(by_mid != by_sign) > MID_DISAGREE:
        return None
    return by_sign.astype(np.uint8)


def refit(t: np.ndarray, t0: float, half: float) -> tuple[float, float, int]:
    """(t0, half, transitions used): least squares through the transitions `t` that lie
    within SNAP of the grid t0 + k * half, k = 0..160."""
    k = np.rint((t - t0) / half)
    near = (k >= 0) & (k <= HALVES) & (np.abs((t - t0) / half - k) < SNAP)
    n = int(near.sum())
    if n < FRAME_BITS:
        return t0, half, n
    x = k[near]
    y = t[near] - t0
    xm = x.mean()
    ym = y.mean()
    den = ((x - xm) ** 2).sum()
    slope = ((x - xm) * (y - ym)).sum() / den
    return t0 + ym - slope * xm, float(slope), n
