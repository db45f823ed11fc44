"""From transitions to checked LTC frames: half/whole cells, sync word, least-squares timing.

Biphase mark puts a transition at every bit cell boundary and one more in the middle of a cell
holding a 1. So the intervals between transitions are half cells (two in a row make a 1) or
whole cells (a 0). Each interval is classed against the cell length measured over the
intervals before it, which follows varispeed. The sync word 0011111111111101 ends every frame:
as intervals that is whole, whole, 24 halves, whole, half, half, a pattern no valid frame body
can contain. Played backwards the frame arrives last bit first, so the same pattern appears
reversed at the frame's beginning (in stream order).

From a sync match the frame's 80 cells are counted back (or forward): every cell boundary
must carry a transition, which checks the class sequence, and the bits follow. The frame's
start and cell length come from a least-squares line through all its transitions (about 120
to 160 of them), which averages the jitter of single transitions into a small fraction of a
sample. A frame is rejected if any transition sits far from that line, if its timing is not
that of LTC, or if its BCD digits are not a label: zero false frames matter as much as recall.

All of it is vectorised over every candidate in the transitions pending, so the cost is a
fixed number of numpy calls per hop however many frames it holds.
"""

from __future__ import annotations

import numpy as np

from stagebox.ltc.edges import _box_sum
from stagebox.ltc.frame import FRAME_BITS, SYNC_BITS

HALVES = 2 * FRAME_BITS  # half cells per frame
_SYNC_CLASSES = [2, 2] + [1] * 24 + [2, 1, 1]  # sync word as interval classes, sent forward
FORWARD_SYNC = bytes(_SYNC_CLASSES)
REVERSE_SYNC = bytes(_SYNC_CLASSES[::-1])
SYNC_LEN = len(_SYNC_CLASSES)  # intervals
HISTORY = 32  # intervals: the cell-length estimate for classing an interval averages these
_DOUBLING_MIN = 256  # new intervals from which `push` sums windows by doubling, not cumsum
KEEP = 320  # transitions kept pending: a whole frame (up to 161) plus the history, with room
FOUND_KEPT = 1024  # frame ends remembered: more than a batch of hops can hold (under 830
# frames in 1024 hops: 30 fps at 1.15x, 44.1 kHz)
MAX_RESIDUAL = 0.5  # of a half cell: the farthest a transition may sit from the frame's line
RMS_RESIDUAL = 0.15  # of a half cell: the most the transitions may scatter about it

# Field weights: bits (80) @ WEIGHTS -> 8 BCD digits then 8 user-bit groups.
_DIGITS = [(0, 4), (8, 2), (16, 4), (24, 3), (32, 4), (40, 3), (48, 4), (56, 2)]
_GROUPS = [(4, 4), (12, 4), (20, 4), (28, 4), (36, 4), (44, 4), (52, 4), (60, 4)]
WEIGHTS = np.zeros((FRAME_BITS, 16), dtype=np.int64)
for _col, (_first, _width) in enumerate(_DIGITS + _GROUPS):
    for _i in range(_width):
        WEIGHTS[_first + _i, _col] = 1 << _i
_WEIGHTS_F = WEIGHTS.astype(np.float64)  # the same, for a BLAS product (exact: sums < 2^53)


def field_values(bits: np.ndarray) -> np.ndarray:
    """The 16 fields (8 BCD digits, 8 user-bit groups) of bits (..., 80), as int64.

    A float matrix product, exact for these small integers, is many times faster than
    numpy's integer one (which has no BLAS)."""
    return (bits @ _WEIGHTS_F).astype(np.int64)


_DIGIT_MAX = np.array([9, 2, 9, 5, 9, 5, 9, 2])
# The digits (units, tens of frames, seconds, minutes, hours) to the four labels, and each
# label's largest value.
_LABEL_OF_DIGITS = np.kron(np.eye(4, dtype=np.int64), np.array([[1], [10]]))  # (8, 4)
_LABEL_MAX = np.array([29, 59, 59, 23])


def labels_ok(bits: np.ndarray, fields: np.ndarray) -> np.ndarray:
    """Per frame row of `bits` (n, 80) and its `field_values` (n, 16): the sync word in
    place and BCD digits that form a label (hours to 23, minutes and seconds to 59, frames
    to 29)."""
    digits = fields[:, :8]
    return (
        (bits[:, 64:] == SYNC_BITS).all(axis=1)
        & (digits <= _DIGIT_MAX).all(axis=1)
        & (digits @ _LABEL_OF_DIGITS <= _LABEL_MAX).all(axis=1)  # f, s, m, h
    )


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """out[i] = how many of flags[i : i + width] are set (width < 256), as uint8.

    `edges._box_sum` over the flags' bytes: a few byte-wide passes, several times cheaper
    than numpy's cumulative sum (and no count can overflow a byte below 256)."""
    return _box_sum(flags.view(np.uint8), width)


_SYNC_RUN = 24  # the sync word's run of half cells (its twelve 1 bits)
_SEARCH_BYTES = 2048  # intervals: fewer than this are searched with bytes.find
_GRID_ITEM = np.dtype((np.void, HALVES + 1))  # a frame's 161 half-cell grid points, as bytes
_TIME_ROW = np.dtype((np.void, 8 * (HALVES + 1)))  # the same points' times (float64), as one item
_STEPS = np.arange(HALVES + 1, dtype=np.float64)  # half cells from a frame's first transition
# (161, 4): 1, k, k^2, and 1 at the cell boundaries (even k): a frame's mask times these
# gives its sums for the least squares and how many of its 81 boundaries carry a transition
_POWERS = np.stack([np.ones(HALVES + 1), _STEPS, _STEPS**2, 1.0 - _STEPS % 2], axis=1)


def _find_all(text: bytes, pattern: bytes, since: int) -> np.ndarray:
    """Start indices (int64) of `pattern` in `text` from index `since` on, by bytes.find."""
    found = []
    j = text.find(pattern, max(since, 0))
    while j >= 0:
        found.append(j)
        j = text.find(pattern, j + 1)
    return np.array(found, dtype=np.int64)


def _sync_matches(
    cls: np.ndarray, halves: np.ndarray | None, since_fwd: int, since_rev: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where the forward and the reversed sync word start in the interval classes `cls`
    (from index `since_fwd`, `since_rev` on), each in increasing order (int64). `halves`
    is the running count of half cells, halves[i] = cls[:i].sum() (not needed under
    _SEARCH_BYTES intervals).

    Both contain the sync word's run of 24 half cells, which frame data almost never
    holds: the places where 24 intervals add up to 24 half cells are found from `halves`
    in two passes (a byte search crawls over a two-letter alphabet), and only those (a
    superset of the runs) are compared with the pattern, as 29-byte strings."""
    n = cls.size
    if n < SYNC_LEN:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n < _SEARCH_BYTES:
        # Streaming (a hop at a time, a few hundred intervals): bytes.find costs fewer calls.
        text = cls.tobytes()
        return _find_all(text, FORWARD_SYNC, since_fwd), _find_all(text, REVERSE_SYNC, since_rev)
    run = np.flatnonzero(halves[_SYNC_RUN:] - halves[:-_SYNC_RUN] == _SYNC_RUN)
    cls = np.ascontiguousarray(cls, dtype=np.uint8)
    words = np.ndarray((n - SYNC_LEN + 1,), f"S{SYNC_LEN}", cls, 0, (1,))  # words[j]: cls[j:j+29]
    found = []
    for pattern, lead, since in (
        (FORWARD_SYNC, 2, since_fwd),  # the run begins 2 intervals into the word
        (REVERSE_SYNC, 3, since_rev),  # 3 into the reversed one
    ):
        j = run - lead
        j = j[(j >= max(since, 0)) & (j <= n - SYNC_LEN)]
        found.append(j[words[j] == pattern])
    return found[0], found[1]


_BYTE_SUMS = np.array(0x0101010101010101, dtype="<u8")  # times a word: its bytes' running sums


def _running_halves(cls: np.ndarray) -> np.ndarray:
    """halves[i]: half cells in the intervals before transition i (int64, one more than cls).

    A cumulative sum costs numpy about 2.5 ns an item; here the classes (0 to 2 each) are
    summed eight at a time: each 8-byte word (little-endian) times 0x0101..01 holds in its
    byte j the sum of its bytes 0..j (at most 16: no carry between bytes), its top byte the
    word's total; the cumulative sum runs over the words' totals only. Exact integers: the
    values of `np.add.accumulate`."""
    n = cls.size
    words = -(-n // 8)
    padded = np.zeros(8 * words, dtype=np.uint8)
    padded[:n] = cls
    running = padded.view("<u8") * _BYTE_SUMS  # byte j of word w: sum of its bytes 0..j
    before = np.zeros(words, dtype=np.int64)  # half cells before each word
    np.cumsum(running[:-1] >> np.uint64(56), out=before[1:])
    halves = np.empty(8 * words + 1, dtype=np.int64)
    halves[0] = 0
    np.add(running.view(np.uint8), np.repeat(before, 8), out=halves[1:])
    return halves[: n + 1]


class Candidates:
    """Checked frames found in one pass (arrays, one row per frame, in stream order)."""

    __slots__ = ("bits", "fields", "first", "half", "last", "reverse", "t0")

    def __init__(self, t0, half, bits, fields, reverse, first, last):
        self.t0 = t0  # samples: stream time of the frame's first transition (stream order)
        self.half = half  # samples: half a bit cell
        self.bits = bits  # (n, 80) uint8, in transmission order (bit 0 first)
        self.fields = fields  # (n, 16) int: BCD digits then user-bit groups
        self.reverse = reverse  # (n,) bool
        self.first = first  # (n,) absolute transition index of the frame's stream start
        self.last = last  # (n,) absolute transition index of the frame's stream end

    def __len__(self) -> int:
        return self.t0.size

    def take(self, rows: np.ndarray) -> Candidates:
        """These rows (indices or a mask), in their order."""
        return Candidates(*(getattr(self, name)[rows] for name in _CANDIDATE_ORDER))

    @staticmethod
    def join(a: Candidates, b: Candidates) -> Candidates:
        """a's rows, then b's."""
        return Candidates(
            *(np.concatenate([getattr(a, name), getattr(b, name)]) for name in _CANDIDATE_ORDER)
        )


_CANDIDATE_ORDER = ("t0", "half", "bits", "fields", "reverse", "first", "last")  # __init__'s


class Framer:
    """Pending transitions of one conditioned signal, and the frames they hold."""

    def __init__(self, cell_min: float, cell_max: float):
        self.cell_min = cell_min  # samples: shortest bit cell accepted (fastest code)
        self.cell_max = cell_max  # samples: longest bit cell accepted (slowest code)
        # Before any history, a half cell of the slowest code is shorter than a whole cell
        # of the fastest: this splits them.
        self.split0 = 0.5 * (cell_min + 0.5 * cell_max)
        self.reset()

    def reset(self) -> None:
        self.base = 0  # absolute index of t[0]
        self.t = np.zeros(0)  # samples
        self.s = np.zeros(0, dtype=np.int8)
        self.cls = np.zeros(0, dtype=np.uint8)  # interval i = t[i+1] - t[i]: 0 bad, 1 half, 2 whole
        # the last HISTORY intervals' own cell-length estimates (0 if bad), the latest last
        self.cell = np.zeros(0)
        self.fresh = 0  # index of the first transition the last push brought
        self.found_ends: list[float] = []  # samples: stream ends of the last frames found

    def push(self, t, s) -> None:
        """Append finalised transitions and class the intervals they close. `t` (samples)
        and `s` (signs) are arrays, or lists of consecutive parts (joined here, in the one
        copy that appends them)."""
        t_parts = t if isinstance(t, list) else [t]
        s_parts = s if isinstance(s, list) else [s]
        if not any(part.size for part in t_parts):
            self.fresh = self.t.size
            return
        # Forget what no frame can still need (kept until now so `frames` saw it all).
        drop = self.t.size - KEEP
        if drop > 0:
            self.base += drop
            self.t = self.t[drop:]
            self.s = self.s[drop:]
            self.cls = self.cls[drop:]
        self.fresh = fresh = self.t.size
        self.t = np.concatenate([self.t, *t_parts])
        self.s = np.concatenate([self.s, *s_parts])
        # The new transitions and the one before them (if any): each new interval's ends.
        tt = self.t[fresh - 1 :] if fresh else self.t
        ss = self.s[fresh - 1 :] if fresh else self.s
        d = tt[1:] - tt[:-1]  # samples
        alternate = ss[1:] != ss[:-1]
        # Each new interval's cell estimate on its own (`own`), split by the fixed rule: d,
        # or 2 d below split0 (d + d, exactly; a product and a sum cost less than a `where`),
        # 0 if it cannot be a cell. The estimates of the HISTORY intervals before each one
        # are averaged (bad ones excluded): laid out after HISTORY slots (the kept history
        # right-aligned, zeros before it: a zero is an excluded estimate), every window is a
        # plain slice of `allc`, and `own` is written straight into its end.
        n = d.size
        hist = self.cell
        allc = np.empty(HISTORY + n)
        allc[: HISTORY - hist.size] = 0.0
        allc[HISTORY - hist.size : HISTORY] = hist
        own = allc[HISTORY:]
        np.multiply(d, d < self.split0, out=own)
        own += d
        ok = alternate & (own >= 0.8 * self.cell_min) & (own <= 1.25 * self.cell_max)
        np.copyto(own, 0.0, where=~ok)
        if n < _DOUBLING_MIN:
            # Streaming (a few transitions a hop): a cumulative sum is the fewest calls.
            csum = np.zeros(HISTORY + n + 1)
            np.add.accumulate(allc, out=csum[1:])  # leading zeros change no partial sum
            total = csum[HISTORY : HISTORY + n] - csum[:n]  # samples: window sums
            cnum = np.zeros(HISTORY + n + 1, dtype=np.int64)
            np.add.accumulate(allc > 0, dtype=np.int64, out=cnum[1:])
            num = cnum[HISTORY : HISTORY + n] - cnum[:n]  # valid estimates in each window
        else:
            # Bulk: sums over 2, 4, ... 32 intervals by doubling (five passes), several
            # times cheaper than numpy's cumulative sum (about 3 ns an item).
            total = _box_sum(allc, HISTORY)[:n]  # samples: window sums
            num = _window_count(allc > 0, HISTORY)[:n]  # valid estimates in each window
        known = num >= 8  # enough of them for an estimate
        est = total / np.maximum(num, 1)  # samples: (used only where known)
        # Class 1 (half) below three quarters of the estimate, 2 (whole) from there; an
        # interval is bad (0) if it is not as long as a half or whole cell of its reference
        # (the estimate where known, else its own) can be.
        split = 0.75 * est
        ref = est
        if not known.all():  # (the usual case in bulk: every one known, no `where`)
            np.copyto(split, self.split0, where=~known)
            ref = np.where(known, est, own)
        cls = (d >= split).view(np.uint8) + np.uint8(1)
        good = ok & (d > 0.25 * ref) & (d < 1.35 * ref)
        cls *= good
        self.cls = np.concatenate([self.cls, cls])
        self.cell = allc[-HISTORY:].copy()  # (leading zeros, if fewer: excluded, as here)

    def close(self, stream_end: float) -> None:
        """End of stream: a forward frame whose last bit ended exactly with the stream lacks
        only its closing transition (the next frame's first). Place it, half a cell after
        the last bit's middle, if the stream reached that far."""
        n = self.t.size
        if n < SYNC_LEN or self.cls[-(SYNC_LEN - 1) :].tobytes() != FORWARD_SYNC[:-1]:
            return
        half = self.t[-1] - self.t[-2]
        end = self.t[-1] + half
        if end <= stream_end + 1.0:
            fresh, base = self.fresh, self.base
            self.push(np.array([end]), np.array([-self.s[-1]], dtype=np.int8))
            # Frames the last real transitions completed are still to be looked for.
            self.fresh = max(0, fresh - (self.base - base))

    def frames(self, after: float) -> Candidates | None:
        """Checked frames completed by the last push whose stream start is later than
        `after` (samples)."""
        t = self.t
        cls = self.cls
        n = t.size
        if n < SYNC_LEN + 2 or self.fresh >= n:
            return None
        # Half cells before each transition (a bad interval adds none), from one cumulative
        # sum (numpy's costs about 3 ns an item); while streaming, only once a sync word
        # has come (bulk decoding looks for sync words with it).
        halves = None if cls.size < _SEARCH_BYTES else _running_halves(cls)
        # A forward frame is complete when its sync word's last interval has arrived; a
        # reversed one (sync first) when its 160th half cell has.
        fwd_at, rev_at = _sync_matches(cls, halves, self.fresh - SYNC_LEN, self.fresh - HALVES - 1)
        if fwd_at.size + rev_at.size == 0:
            return None
        if halves is None:
            halves = _running_halves(cls)
        # Count 160 half cells back from a forward frame's end (its sync word's last
        # interval), forward from a reverse one's start (its sync word's first).
        # Forward matches first, then reversed ones (each in stream order).
        last = fwd_at + SYNC_LEN
        first = np.searchsorted(halves, halves[last] - HALVES, side="right") - 1
        if rev_at.size:
            rev_last = np.minimum(np.searchsorted(halves, halves[rev_at] + HALVES), n - 1)
            first = np.concatenate([first, rev_at])
            last = np.concatenate([last, rev_last])
        reverse = np.arange(first.size) >= fwd_at.size
        ok = (first >= 0) & (last >= self.fresh)
        first = np.where(ok, first, 0)  # (so the next line can index)
        ok &= halves[last] - halves[first] == HALVES  # (a reversed match ran past the end)
        if not ok.all():
            if not ok.any():
                return None
            first, last, reverse = first[ok], last[ok], reverse[ok]
        m = first.size
        # The frames' half-cell grids: every pending transition's time is written at its
        # half-cell count; a frame's 161 grid points are the window from its first, gathered
        # as single items of a strided view (one memcpy per frame). Inside a frame (no bad
        # interval) each count holds one transition; at its ends a transition just outside
        # may share the count through a bad interval (which adds no half cells), so the end
        # points are set from `first` and `last`. A grid point with no transition holds 0
        # (its mark says so).
        h0 = halves[first]
        size = int(halves[-1]) + 1
        times = np.zeros(size + HALVES)
        times[halves] = t
        mark = np.zeros(size + HALVES, dtype=np.uint8)
        mark[halves] = 1
        windows = np.ndarray((size,), _GRID_ITEM, mark, 0, (1,))
        grid = windows[h0].view(np.uint8).reshape(m, HALVES + 1)  # 1 where a transition is
        bits = grid[:, 1::2].copy()  # (m, 80) uint8 in stream order
        if rev_at.size:
            bits[reverse] = bits[reverse, ::-1]
        rows = np.ndarray((size,), _TIME_ROW, times, 0, (times.itemsize,))
        y = rows[h0].view(np.float64).reshape(m, HALVES + 1)  # (m, 161) samples
        t_first = t[first]
        y[:, 0] = t_first
        y[:, HALVES] = t[last]
        y -= t_first[:, None]
        mask = grid.astype(np.float64)
        y *= mask
        # Least squares: t = t0 + k * half over each frame's transitions (k its half cells).
        # The mask's sums are whole numbers, exact in any order: one BLAS product. The
        # times' are not, and a BLAS product's order of summation changes with the number
        # of rows (the frames in this batch): `einsum` sums each row the same way whatever
        # the batch, so block sizes still give the same frames.
        cnt, sx, sxx, bounds = (mask @ _POWERS).T
        whole = bounds == FRAME_BITS + 1  # every cell boundary carries a transition
        sy = y.sum(axis=1)
        sxy = np.einsum("ij,j->i", y, _STEPS)
        den = cnt * sxx - sx * sx
        half = (cnt * sxy - sx * sy) / np.where(den > 0, den, 1.0)
        icpt = (sy - half * sx) / cnt
        # The residuals' sum of squares from the sums (one more pass, for sum y^2): the
        # largest residual is at most its root, so only frames where that root reaches
        # MAX_RESIDUAL (noisy ones: few) have their residuals worked out one by one.
        syy = np.einsum("ij,ij->i", y, y)
        squares = (
            syy
            - 2.0 * icpt * sy
            - 2.0 * half * sxy
            + icpt * icpt * cnt
            + 2.0 * icpt * half * sx
            + half * half * sxx
        )
        squares = np.maximum(squares, 0.0)
        rms = np.sqrt(squares / cnt)
        worst = np.sqrt(squares)  # an upper bound, exact below where it could matter
        close = worst >= MAX_RESIDUAL * half
        if close.any():
            close = np.flatnonzero(close)
            res = y[close] - (icpt[close, None] + half[close, None] * _STEPS)
            res *= mask[close]
            worst[close] = np.abs(res).max(axis=1)
        fields = field_values(bits)
        good = (
            whole
            & (cnt == last - first + 1)  # no bad interval: one transition per grid point
            & labels_ok(bits, fields)
            & (den > 0)
            & (half >= 0.5 * self.cell_min)
            & (half <= 0.5 * self.cell_max)
            & (worst < MAX_RESIDUAL * half)
            & (rms < RMS_RESIDUAL * half)
        )
        t0 = t[first] + icpt
        if good.any():
            self.found_ends.extend((t0[good] + HALVES * half[good]).tolist())
            self.found_ends.sort()
            del self.found_ends[:-FOUND_KEPT]
        good &= t0 > after
        if not good.any():
            return None
        found = Candidates(t0, half, bits, fields, reverse, first + self.base, last + self.base)
        if good.all() and (m == 1 or (t0[1:] >= t0[:-1]).all()):
            return found  # all good and in stream order (the usual case)
        order = np.argsort(t0[good], kind="stable")
        return found.take(np.flatnonzero(good)[order])
