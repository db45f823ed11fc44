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

THRESHOLD = 0.3  # of the tracked peak detector level: a transition into silence gives 0.5
ENV_TIME = 0.02  # seconds: decay of the tracked peak level (forgets a click, or a dropout)
FLOOR = 1e-5  # detector output below this is never a transition (about -100 dBFS)
LEAK_TIME = 0.001  # seconds: time constant of the `pulse` conditioning's leaky integrator


class EdgeFinder:
    """Transitions of one conditioned copy of the signal, hop by hop.

    `find(x, first, hops)` takes raw samples `x` covering absolute samples
    `[first - margin, first + hops * hop + lookahead)` and returns the transitions finalised so
    far: times (fractional absolute samples), signs (+1 rising, -1 falling) and strengths.
    """

    def __init__(self, sample_rate: int, hop: int, width: int, merge_gap: float, mode: str):
        if mode not in ("step", "pulse"):
            raise ValueError(f"unknown conditioning {mode!r}")
        self.hop = hop  # samples per hop
        self.width = width  # samples: each side of the step detector
        self.merge_gap = merge_gap  # samples: same-sign peaks closer than this are one
        self.mode = mode
        self.margin = width + 1  # samples of history `find` needs before `first`
        self.lookahead = width + 1  # samples needed after the last hop
        self._log_decay = -hop / (ENV_TIME * sample_rate)  # per hop, natural log
        leak = np.exp(-1.0 / (LEAK_TIME * sample_rate))
        self._leak = leak
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
        if n:
            # y[k] = a^(k+1) y0 + sum_j a^(k-j) x[j], in pieces short enough for a^-k.
            out = np.empty(n)
            a = self._leak
            piece = 512
            k = np.arange(piece, dtype=np.float64)
            up = a**-k
            down = a**k
            state = self._leak_state
            for i in range(0, n, piece):
                seg = new[i : i + piece]
                m = seg.size
                acc = np.cumsum(seg * up[:m])
                acc += state
                y = acc * down[:m]
                out[i : i + m] = y
                state = y[-1] * a
            self._leak_state = state
            self._leak_pos += n
            y_all = np.concatenate([self._leak_hist, out])
        else:
            y_all = self._leak_hist
        need = x.size
        y = y_all[-need:]
        self._leak_hist = y_all[-(self.margin + self.lookahead + 2) :].copy()
        return y

    def find(self, x: np.ndarray, first: int, hops: int, final: bool = False):
        """Transitions in hops [first, first + hops * hop) (x starts at first - margin).

        With `final`, the last open group of peaks is closed too (end of stream).
        """
        w = self.width
        h = self.hop
        n_out = hops * h
        if self.mode == "pulse":
            x = self._integrate(x, first - self.margin)
        # e[n] for n in [first - 1, first + n_out + 1): x index of n is n - first + margin.
        cs = np.empty(x.size + 1)
        cs[0] = 0.0
        np.cumsum(x, out=cs[1:])
        lo = self.margin - 1  # x index of n = first - 1
        i = np.arange(lo, lo + n_out + 2)
        e = (cs[i + w] - 2.0 * cs[i] + cs[i - w]) * (1.0 / w)
        a = np.abs(e)
        mid = a[1:-1]
        # Tracked level: per hop max, decaying between hops (log domain, absolute hop index).
        k0 = first // h
        hop_max = mid.reshape(hops, h).max(axis=1)
        log_m = np.log(np.maximum(hop_max, FLOOR * 1e-3))
        ks = np.arange(k0, k0 + hops, dtype=np.float64)
        g = log_m + ks * self._log_decay * -1.0
        run = np.maximum.accumulate(np.concatenate([[self._env_run], g]))[1:]
        self._env_run = run[-1]
        env = np.exp(run + ks * self._log_decay)
        thr = np.maximum(env * THRESHOLD, FLOOR)
        above = (mid.reshape(hops, h) > thr[:, None]).reshape(-1)
        peak = above & (mid >= a[:-2]) & (mid > a[2:])
        idx = np.flatnonzero(peak)
        y0 = a[idx]
        y1 = a[idx + 1]
        y2 = a[idx + 2]
        # Triangle (not parabola) interpolation: the detector's response to a step.
        den = 2.0 * (y1 - np.minimum(y0, y2))
        delta = np.where(den > 0, (y2 - y0) / np.where(den > 0, den, 1.0), 0.0)
        # e[n] compares [n, n+w) with [n-w, n): a step between n-1 and n peaks at n.
        t = (first + idx) + delta - 0.5
        s = np.where(e[idx + 1] > 0, 1, -1).astype(np.int8)
        return self._merge(t, s, y1, first + n_out, final)

    def _merge(self, t, s, amp, horizon: float, final: bool):
        """Join same-sign neighbours (keep the strongest); hold back the last open group."""
        if self._tail_t.size:
            t = np.concatenate([self._tail_t, t])
            s = np.concatenate([self._tail_s, s])
            amp = np.concatenate([self._tail_a, amp])
        if t.size == 0:
            return t, s, amp
        same = (s[1:] == s[:-1]) & (np.diff(t) < self.merge_gap)
        group = np.concatenate([[0], np.cumsum(~same)])
        ngroups = int(group[-1]) + 1
        if same.any():
            order = np.lexsort((-amp, group))
            firsts = np.flatnonzero(np.concatenate([[True], group[order][1:] != group[order][:-1]]))
            keep = order[firsts]
        else:
            keep = np.arange(t.size)
        # The last group stays open while a same-sign peak may still join it.
        last_members = group == ngroups - 1
        if final or horizon - t[last_members][-1] > self.merge_gap:
            self._tail_t = t[:0]
            self._tail_s = s[:0]
            self._tail_a = amp[:0]
            done = keep
        else:
            self._tail_t = t[last_members]
            self._tail_s = s[last_members]
            self._tail_a = amp[last_members]
            done = keep[:-1]
        return t[done], s[done], amp[done]
