"""LTC transition finder: where the biphase-mark signal flips, to a fraction of a sample.

A biphase-mark transition is a step. Its detector is the difference of two adjacent moving
averages over `width` samples (the mean after a point minus the mean before it): a step of
height 2A gives a triangle peaking at 2A on the step, while DC is cancelled exactly and 50 Hz
hum, whose slope over a bit cell is tiny, nearly so. The sign of the peak says whether the
level went up or down, so transitions must alternate in sign; two peaks of the same sign in a
row can only be one transition and a noise peak (or the undershoot a high-pass filter leaves
after a step), and the larger one is kept.

Signals that were effectively differentiated on the way in (an XLR adapter coupling LTC
through a small capacitor, as the Rode VXLR does on a Zoom F6) carry each transition as a short
decaying pulse, not a step. The `pulse` conditioning integrates them back to steps with a
leaky integrator first; the decoder runs both conditionings (see `decoder.py`).

Everything here works on whole hops of a fixed size at fixed absolute positions, so what is
found never depends on how the caller cut the stream into blocks.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.12  # of the tracked peak detector level over the last hops
LOCAL_THRESHOLD = 0.35  # of the strongest detector output within about a bit cell each side
ENV_TIME = 0.02  # seconds: decay of the tracked peak level (forgets a click, or a dropout)
FLOOR = 1e-5  # detector output below this is never a transition (about -100 dBFS)
LEAK_TIME = 0.001  # seconds: time constant of the `pulse` conditioning's leaky integrator


class EdgeFinder:
    """Transitions of one conditioned copy of the signal, hop by hop.

    `find(x, first, hops)` takes raw samples `x` covering absolute samples
    `[first - margin, first + hops * hop + lookahead)` and returns the transitions finalised so
    far: times (fractional absolute samples), signs (+1 rising, -1 falling) and strengths.
    """

    def __init__(
        self, sample_rate: int, hop: int, width: int, block: int, merge_gap: float, mode: str
    ):
        if mode not in ("step", "pulse"):
            raise ValueError(f"unknown conditioning {mode!r}")
        self.hop = hop  # samples per hop
        self.width = width  # samples: each side of the step detector
        self.merge_gap = merge_gap  # samples: same-sign peaks closer than this are one
        self.mode = mode
        if hop & (hop - 1) or block & (block - 1) or hop % block:
            raise ValueError(f"hop {hop} and level block {block} must be powers of two")
        self._hop_shift = hop.bit_length() - 1  # index >> this: its hop
        self._block_shift = block.bit_length() - 1  # index >> this: its level block
        self.block = block  # samples: the local level is the max over 3 such blocks
        self.margin = width + block  # samples of history `find` needs before `first`
        self.lookahead = width + block  # samples needed after the last hop
        self._log_decay = -hop / (ENV_TIME * sample_rate)  # per hop, natural log
        leak = np.exp(-1.0 / (LEAK_TIME * sample_rate))
        self._leak = leak
        # Samples integrated per cumsum: a^-piece must stay far inside float64's range.
        self._piece = int(min(8192, 200 * LEAK_TIME * sample_rate))
        k = np.arange(self._piece, dtype=np.float64)
        self._powers = (leak**-k, leak**k)
        self._offsets = np.arange(-width + 1, width, dtype=np.float32)  # samples: centroid window
        # Columns: offsets and ones, so one matrix product gives each window's first moment
        # and its sum (one BLAS call is about half the cost of two matrix-vector products).
        self._moments = np.stack([self._offsets, np.ones_like(self._offsets)], axis=1)
        # 2w - 1 float32 as one item (the detector is float32: `_buf` and `_integrate` give it)
        self._window = np.dtype((np.void, 4 * (2 * width - 1)))
        self.reset()

    def reset(self) -> None:
        self._env_run = -np.inf  # running max of log(env) + k * decay, in hop units
        self._leak_state = 0.0  # pulse mode: integrator output before the next new sample
        self._leak_pos = None  # absolute index of the next sample the integrator takes
        self._leak_hist = np.zeros(0)  # integrated samples kept for the next call's margin
        self._tail_t = np.zeros(0)  # peaks of the last, still open, same-sign group
        self._tail_s = np.zeros(0, dtype=np.int8)
        self._tail_a = np.zeros(0)

    def _integrate(self, x: np.ndarray, first_abs: int) -> np.ndarray:
        """Leaky integral of x (absolute samples from first_abs), continuing across calls."""
        if self._leak_pos is None or first_abs > self._leak_pos:
            # Start (or restart after a gap) from rest.
            self._leak_pos = first_abs
            self._leak_state = 0.0
            self._leak_hist = np.zeros(0)
        skip = self._leak_pos - first_abs  # samples of x already integrated
        new = x[skip:]
        n = new.size
        out = np.empty(self._leak_hist.size + n)
        out[: self._leak_hist.size] = self._leak_hist
        a = self._leak
        piece = self._piece
        up, down = self._powers
        state = self._leak_state
        # y[k] = a^(k+1) y0 + sum_j a^(k-j) x[j], in pieces short enough for a^-k.
        for i in range(0, n, piece):
            seg = new[i : i + piece]
            m = seg.size
            y = out[self._leak_hist.size + i : self._leak_hist.size + i + m]
            np.multiply(seg, up[:m], out=y)
            np.cumsum(y, out=y)
            y += state
            y *= down[:m]
            state = y[-1] * a
        self._leak_state = state
        self._leak_pos += n
        y = out[-x.size :]
        self._leak_hist = out[-(self.margin + self.lookahead + 2) :].copy()
        return y.astype(np.float32)

    def find(self, x: np.ndarray, first: int, hops: int, final: bool = False, reach: int = 0):
        """Transitions in hops [first, first + hops * hop) (x starts at first - margin).

        With `final`, the last open group of peaks is closed too (end of stream). `reach`
        (samples, under a level block) takes peaks that far before `first` too: where these
        hops follow hops whose transitions came from elsewhere (`crossings.py`), a transition
        on the border is then found twice rather than never. (At most a level block less
        one sample: the history this call's detector output holds.)
        """
        w = self.width
        h = self.hop
        n_out = hops * h
        if self.mode == "pulse":
            x = self._integrate(x, first - self.margin)
        b = self.block
        # e[n] for n in [first - b, first + n_out + b): x index of n is n - first + margin.
        # e[n] = S[n] - S[n - w], S[n] the sum of x[n .. n + w - 1]: the box sums come from
        # a few shifted additions (`_box_sum`), which are exact enough in float32 and much
        # cheaper than a cumulative sum (no long-range rounding either, whatever the DC).
        lo = self.margin - b  # x index of n = first - b
        m = n_out + 2 * b
        box = _box_sum(x[lo - w : lo + m + w - 1], w)  # box[j]: sum from x index lo - w + j
        # Unscaled (w times the difference of the means): thresholds are relative.
        e = box[w : w + m] - box[:m]
        a = np.abs(e)
        # Local level: max over the block of each sample and its two neighbours.
        bmax = _block_max(a, b)
        local = np.maximum(np.maximum(bmax[:-2], bmax[1:-1]), bmax[2:])  # per block of the hops
        # Tracked level: per hop max, decaying between hops (log domain, absolute hop index).
        k0 = first // h
        # (the same maxima either way: one call for a few hops, pairwise halving for many)
        if hops < 8:
            hop_max = bmax[1:-1].reshape(hops, -1).max(axis=1)
        else:
            hop_max = _block_max(bmax[1:-1], h // b)
        log_m = np.log(np.maximum(hop_max, FLOOR * w * 1e-3))
        ks = np.arange(k0, k0 + hops, dtype=np.float64)
        g = log_m - ks * self._log_decay
        run = np.maximum.accumulate(np.concatenate([[self._env_run], g]))[1:]
        self._env_run = run[-1]
        env = np.exp(run + ks * self._log_decay)
        thr = np.maximum(env * THRESHOLD, FLOOR * w)  # per hop
        # A peak is a local maximum of |e| above both thresholds. The local maxima come
        # first (two comparisons over the samples, a few per bit cell survive); the
        # thresholds are then looked up for those alone, by block and by hop.
        # Positions count from `first`; with a reach they start r samples before it, and
        # those take the first block's thresholds.
        r = min(reach, b - 1)  # (never past the block of history `a` holds before `first`)
        mid = a[b - r : b + n_out]
        peak = (mid >= a[b - r - 1 : b - 1 + n_out]) & (mid > a[b - r + 1 : b + 1 + n_out])
        top = peak.nonzero()[0] - r
        at = np.maximum(top, 0)
        thr_top = np.maximum(
            LOCAL_THRESHOLD * local[at >> self._block_shift], thr[at >> self._hop_shift]
        )
        idx = top[a[top + b] > thr_top] + b  # index into e
        ev = e[idx]  # signed peak values (above a positive threshold: never 0)
        # Sub-sample position: centroid of the detector's triangle above half its height.
        # The 2w - 1 samples around each peak are gathered as single items of a strided
        # view whose items span 2w - 1 float32 (one memcpy per peak: about twice as fast as
        # gathering rows of a 2-D view); the sums are matrix-vector products.
        # (e - ev / 2) * ev is the part above half height times |ev|, positive just where e
        # is beyond half the peak on its side, whatever its sign; the row's scale |ev|
        # cancels in the centroid. Flat ops on the peak values repeated per window sample
        # cost far less than broadcasting a column over rows of 2w - 1.
        k = self._offsets
        rows = np.ndarray((e.size - k.size + 1,), self._window, e, 0, (e.itemsize,))
        win = rows[idx - (w - 1)].view(e.dtype).reshape(-1)  # row i: e[j : j + 2w - 1]
        ev_rep = np.repeat(ev, k.size)
        win -= np.float32(0.5) * ev_rep
        win *= ev_rep
        np.maximum(win, 0.0, out=win)
        moments = win.reshape(-1, k.size) @ self._moments  # (n, 2): sum k w_k, sum w_k
        delta = moments[:, 0] / np.maximum(moments[:, 1], 1e-30)
        # e[n] compares [n, n+w) with [n-w, n): a step between n-1 and n peaks at n.
        t = (first - b + idx) + delta - 0.5
        s = np.where(ev > 0, 1, -1).astype(np.int8)  # +1 rising, -1 falling
        return self._merge(t, s, np.abs(ev), first + n_out, final)

    def release(self):
        """(t, s) of the peaks held back for a merge with the next call's, merged now: the
        next hops' transitions come from elsewhere (`crossings.py`)."""
        t, s, amp = self._tail_t, self._tail_s, self._tail_a
        t, s, _amp = self._merge(t[:0], s[:0], amp[:0], np.inf, final=True)
        return t, s

    def _merge(self, t, s, amp, horizon: float, final: bool):
        """Join same-sign neighbours (keep the strongest); hold back the last open group."""
        if self._tail_t.size:
            t = np.concatenate([self._tail_t, t])
            s = np.concatenate([self._tail_s, s])
            amp = np.concatenate([self._tail_a, amp])
        if t.size == 0:
            return t, s, amp
        same = (s[1:] == s[:-1]) & (t[1:] - t[:-1] < self.merge_gap)
        if not same.any():
            # Nothing to join (the usual case): each peak is its own group; only the last
            # may still be joined by a peak of the next call.
            if final or horizon - t[-1] > self.merge_gap:
                self._tail_t, self._tail_s, self._tail_a = t[:0], s[:0], amp[:0]
                return t, s, amp
            self._tail_t, self._tail_s, self._tail_a = t[-1:], s[-1:], amp[-1:]
            return t[:-1], s[:-1], amp[:-1]
        # Groups are runs of joined neighbours: each keeps its strongest peak (the first of
        # equals), found in a few linear passes (noisy code has many groups).
        starts = np.concatenate([[0], (~same).nonzero()[0] + 1])  # each group's first peak
        top = np.maximum.reduceat(amp, starts)
        sizes = np.diff(np.append(starts, amp.size))
        strongest = (amp == np.repeat(top, sizes)).nonzero()[0]
        group = np.searchsorted(starts, strongest, side="right") - 1
        keep = strongest[np.concatenate([[True], group[1:] != group[:-1]])]
        # The last group stays open while a same-sign peak may still join it.
        last = int(starts[-1])  # its first peak
        if final or horizon - t[-1] > self.merge_gap:
            self._tail_t = t[:0]
            self._tail_s = s[:0]
            self._tail_a = amp[:0]
            done = keep
        else:
            self._tail_t = t[last:]
            self._tail_s = s[last:]
            self._tail_a = amp[last:]
            done = keep[:-1]
        return t[done], s[done], amp[done]


def _block_max(a: np.ndarray, b: int) -> np.ndarray:
    """Max over consecutive blocks of b samples (b a power of two), by pairwise halving:
    much faster than reshape(-1, b).max(axis=1) for small b."""
    while b > 1:
        a = np.maximum(a[0::2], a[1::2])
        b //= 2
    return a


def _box_sum(x: np.ndarray, w: int) -> np.ndarray:
    """Sums of w consecutive samples: out[j] = x[j] + ... + x[j + w - 1].

    Built from the sums over 1, 2, 4, ... samples (each the sum of two shifted copies of the
    one before), adding those whose sizes make up w: about 2 log2(w) additions, each one
    pass over the array. With no running total it loses nothing to a long signal or DC.
    """
    n = x.size
    total = None  # sums of `width` samples so far
    width = 0
    power = x  # sums of `size` samples
    size = 1
    while True:
        if w & size:
            if total is None:
                total = power
            else:
                total = total[: n - width - size + 1] + power[width : n - size + 1]
            width += size
        if 2 * size > w:
            return total
        power = power[:-size] + power[size:]
        size *= 2
