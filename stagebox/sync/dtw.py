"""Dynamic time warping in a band: which take frame answers each guide frame.

The recurrence is the textbook symmetric one (Sakoe & Chiba 1978; dtw-python's
`symmetric2`): with d(i, j) the distance between guide frame i and take frame j,

    D(0, 0) = d(0, 0)
    D(i, j) = min( D(i-1, j-1) + 2 d(i, j),   # both move on: the diagonal costs double,
                   D(i-1, j)   +   d(i, j),   #   so a path is not pushed onto it
                   D(i, j-1)   +   d(i, j) )

With `step_penalty` p > 0, a step along only one of the two (a held or a skipped frame)
costs p more. Inside a sustained vowel or a silence every frame looks like its neighbours, so
without it the path may wander 100 ms and back at no cost; with a small p it stays on the
diagonal until the sound says otherwise. p = 0 is exactly `symmetric2`.

Both ends are anchored (the guide and the take are cut to the same span, handles included).
Only cells within `band` frames of the diagonal are filled (the Sakoe-Chiba band): an actor
more than the band away from the guide is out of sync whatever the path says, and the band
keeps a 10 s cue to about 200 cells a row instead of 1000.

A row cannot be filled as one vector operation in the obvious way, because D(i, j) depends on
D(i, j-1). It can be in this way: with A(j) the best of the two moves from the row above and
C the running sum of d along the row, D(i, j) = C(j) + min over k <= j of (A(k) - C(k)), a
cumulative minimum. So the whole table costs one numpy pass per guide frame.
"""

from __future__ import annotations

import numpy as np


def band_centres(n: int, m: int) -> np.ndarray:
    """Take frame on the straight line from (0, 0) to (n-1, m-1) for each guide frame."""
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    return np.rint(np.arange(n) * ((m - 1) / (n - 1))).astype(np.int64)


def banded_cost(guide: np.ndarray, take: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances between unit-length feature rows inside the band.

    Returns (cost, start): cost (n, 2*band+1), cost[i, k] the distance from guide frame i to
    take frame start[i] + k; inf where that frame is outside the take.
    """
    n, m = len(guide), len(take)
    width = 2 * band + 1
    start = band_centres(n, m) - band
    cols = start[:, None] + np.arange(width)[None, :]
    valid = (cols >= 0) & (cols < m)
    gathered = take[np.clip(cols, 0, m - 1)]  # (n, width, dims)
    cost = 1.0 - np.einsum("nd,nwd->nw", guide, gathered, optimize=False)
    cost = np.maximum(cost, 0.0).astype(np.float64)
    cost[~valid] = np.inf
    return cost, start


def dtw_path(
    cost: np.ndarray, start: np.ndarray, m: int, step_penalty: float = 0.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """The cheapest path through a banded cost table (see `banded_cost`).

    Returns (guide_frames, take_frames, total) with the path from (0, 0) to (n-1, m-1) in
    order, and the path's accumulated cost D(n-1, m-1). Raises ValueError when the end cell
    is outside the band (a band narrower than the two lengths' difference).
    """
    n, width = cost.shape
    acc = np.full((n, width), np.inf)
    # Row 0: only moves along the take from (0, 0).
    k0 = -int(start[0])
    if not 0 <= k0 < width:
        raise ValueError("the band does not contain the first cell")
    p = float(step_penalty)
    row = cost[0] + p
    row[:k0] = np.inf
    acc[0, k0:] = np.cumsum(row[k0:]) - p
    for i in range(1, n):
        shift = int(start[i] - start[i - 1])  # the band moves right by this many take frames
        prev = acc[i - 1]
        up = _shifted(prev, shift)  # D(i-1, j)
        diag = _shifted(prev, shift - 1)  # D(i-1, j-1)
        c = cost[i]
        best = np.minimum(diag + 2.0 * c, up + c + p)
        finite = np.isfinite(c)
        lo, hi = _span(finite)
        if lo < 0:
            continue
        run = np.cumsum(c[lo:hi] + p)
        acc[i, lo:hi] = run + np.minimum.accumulate(best[lo:hi] - run)
    k_end = (m - 1) - int(start[n - 1])
    if not 0 <= k_end < width or not np.isfinite(acc[n - 1, k_end]):
        raise ValueError("the band does not reach the last cell")
    total = float(acc[n - 1, k_end])
    return (*_trace(acc, cost, start, n - 1, m - 1, p), total)


def _shifted(prev: np.ndarray, shift: int) -> np.ndarray:
    """prev re-indexed to the next row's band: out[k] = prev[k + shift] (inf outside)."""
    out = np.full_like(prev, np.inf)
    w = len(prev)
    if shift >= 0:
        if shift < w:
            out[: w - shift] = prev[shift:]
    elif -shift < w:
        out[-shift:] = prev[: w + shift]
    return out


def _span(mask: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return -1, -1
    return int(idx[0]), int(idx[-1]) + 1


def _trace(acc, cost, start, i: int, j: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Walk back from (i, j) along the moves that produced each cell."""
    width = acc.shape[1]
    gi, tj = [i], [j]

    def at(r: int, col: int) -> float:
        k = col - int(start[r])
        return float(acc[r, k]) if 0 <= k < width and col >= 0 else np.inf

    while i > 0 or j > 0:
        c = float(cost[i, j - int(start[i])])
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            diag = at(i - 1, j - 1) + 2.0 * c
            up = at(i - 1, j) + c + p
            left = at(i, j - 1) + c + p
            # Prefer the diagonal on a tie, as dtw-python does.
            if diag <= up and diag <= left:
                i, j = i - 1, j - 1
            elif up <= left:
                i -= 1
            else:
                j -= 1
        gi.append(i)
        tj.append(j)
    return np.array(gi[::-1], dtype=np.int64), np.array(tj[::-1], dtype=np.int64)
