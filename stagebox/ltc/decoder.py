"""LTC decoder: numpy blocks in, with their absolute sample position; checked frames out.

The pipeline (each stage in its own module):

1. The transitions of the biphase-mark signal, to a fraction of a sample. Two conditionings
   run side by side: `step`, for LTC as sent, and `pulse`, for LTC that reached the
   converter differentiated (a transformerless XLR adapter such as the Rode VXLR), which is
   leaky-integrated first. `edges.EdgeFinder`, a step detector that ignores DC and hum,
   finds them in anything; for the step conditioning, `crossings.CrossingFinder` first
   tries each hop as clean LTC (zero crossings, each proving itself steep, centred and
   spaced like LTC), a third of the work, and the detector takes only the hops it cannot
   prove (`_find_step`).
2. `framer.Framer` classes the intervals as half or whole bit cells, finds the sync word
   (forward or reversed), counts the frame's 80 cells, fits its start and cell length by least
   squares over all its transitions, and checks the cells, the sync word and the BCD digits.
3. `LTCDecoder` runs them over fixed hops of the stream and keeps one frame per place in the
   stream (the step conditioning's when both find it). The pulse conditioning runs only
   while the step one is not locked (fewer than three of its frames in the last four frames'
   time), which halves the cost of ordinary LTC, and its frames count only where the signal
   is spiky (`_differentiated`): on square-wave LTC they would be a detector width late.
4. `flywheel` reads frames the framer missed (noise broke a transition or two) on the grid
   predicted from the last frame, with matched-filter bit decisions, for up to
   FLYWHEEL_FRAMES frames; and when a run of frames starts, the LOOKBACK_FRAMES before its
   first are read on its grid and returned with it (late by those frames).

Hops sit at fixed absolute positions from the start of the stream (or from the last
discontinuity), so the frames found never depend on how the caller cut the stream into blocks:
block sizes 1, 7, 256 and the whole file give identical frames. A frame is returned in the call
that delivers the first hop ending a little after its last transition: about 21 ms (one hop)
plus two bit cells after the frame ends, at 48 kHz.

Timing: `start` is where the frame's first bit cell begins (its leading transition), `end`
where the last cell ends, both fitted over the frame's transitions, in fractional absolute
samples. Played backwards, a frame arrives last bit first; it is reported with
`reverse=True` and with `start`/`end` still the stream positions of the first bit's leading
edge and the last bit's trailing edge *as the frame was originally timed*. In the stream the
first bit's edge then comes after the last bit's: for a reversed frame `start > end` and
`period` (end - start) is negative, its size still the frame's length.

`level` is the peak of the raw input over the frame's span, in dBFS (full scale 1.0).

Cost: a fixed number of numpy calls per hop (1024 samples at 48 kHz), whatever the block
size; a block bringing many hops is handled BATCH_HOPS at a time (at most BATCH_SAMPLES; the
transition finder FIND_HOPS at a time, to stay in cache), which gives the same frames with
fewer numpy calls.
Samples are float32. No threads, no I/O; buffers are allocated once and numpy allocates only
its temporaries. Measured against libltc in `docs/benchmarks.md`.
"""

from __future__ import annotations

import bisect
import math
from itertools import repeat

import numpy as np

from stagebox.ltc.crossings import CrossingFinder
from stagebox.ltc.edges import EdgeFinder
from stagebox.ltc.flywheel import read_bits, refit
from stagebox.ltc.frame import FRAME_BITS, LTCFrame, build_frames, flag_bits
from stagebox.ltc.framer import HALVES, Candidates, Framer, field_values, labels_ok

FPS_MIN = 24000 / 1001  # slowest standard rate (23.976)
FPS_MAX = 30.0  # fastest standard rate
SPEED_MIN = 0.85  # slowest play speed decoded (a shuttle or varispeed)
SPEED_MAX = 1.15  # fastest
HOP_SECONDS = 1024 / 48000  # about 21 ms: one hop's latency and the unit of work
# Hops handled together when a block brings many (bulk decoding): each batch costs about a
# hundred numpy calls whatever its size, so larger is cheaper (bulk, measured: 8.3 ns a
# sample at 256, 7.5 at 512, 7.1 at 1024) for a 4 MB buffer at 48 kHz.
BATCH_HOPS = 1024
BATCH_SAMPLES = 1 << 20  # and at most this many samples (4 MB of float32): fewer hops >48 kHz
FIND_HOPS = 128  # of those, hops the transition finder takes at once (see `_run_path`)
FLYWHEEL_FRAMES = 8  # frames after the last decoded one read on the predicted grid
LOOKBACK_FRAMES = 4  # frames before the first of a run read on its grid
REACH = 2  # samples: how far back the step detector looks for peaks after clean hops
_BGF_25 = flag_bits(25)[:3]  # bit positions of BGF0..2 at 25 fps
_BGF_30 = flag_bits(30)[:3]  # and at 24 and 30 fps
_NOMINALS = np.array([24.0, 25.0, 30.0])  # frames a second of the three LTC families


def family_25(fps, frame_label):
    """Whether a frame's binary group flags sit where the 25 fps family puts them: its nearest
    nominal rate, by its own length, is 25 (24 and 30 share the other layout). Frame labels of
    24 and up rule out 24 fps, 25 and up 25 fps. Scalars or arrays (one value per frame)."""
    if np.ndim(fps) == 0:  # one frame (streaming): the same rule without numpy's overhead
        options = [n for n in (24, 25, 30) if frame_label < n] or [30]
        return min(options, key=lambda n: abs(math.log(max(float(fps), 1e-9) / n))) == 25
    fps = np.asarray(fps, dtype=np.float64)
    label = np.asarray(frame_label)
    d = np.abs(np.log(np.maximum(fps, 1e-9)[..., None] / _NOMINALS))
    d[..., 0] = np.where(label >= 24, np.inf, d[..., 0])
    d[..., 1] = np.where(label >= 25, np.inf, d[..., 1])
    return d.argmin(axis=-1) == 1


CLEAN_STREAK = 3  # clean hops in a row before the crossings are used (see `_find_step`)
SPIKY = 0.5  # a pulse-conditioning frame is kept where median |x| < this x its 90th pct
_BITS_ROW = np.dtype((np.void, FRAME_BITS))  # a frame's 80 uint8 bits as one bytes item


def _hop_size(sample_rate: int) -> int:
    """A power of two near HOP_SECONDS of audio (1024 at 44.1 and 48 kHz, 2048 at 96)."""
    return 1 << max(4, round(math.log2(sample_rate * HOP_SECONDS)))


def to_float(block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A block as float32 at full scale 1.0 (ints by their dtype's full scale; NaN and
    infinite samples as 0), into `out` (float32, the block's length) when given.

    float32 holds 24 bits of mantissa, more than any converter delivers, and halves the
    memory traffic of every pass over the samples. Integer samples (the usual 16-bit WAV or
    capture) go straight into `out`: no block-sized temporary to allocate and copy."""
    a = as_mono(block)
    kind = a.dtype.kind
    if kind == "i":  # (one call: the cast and the scaling in one loop)
        scale = np.float32(1.0 / (1 << (8 * a.dtype.itemsize - 1)))
        return np.multiply(a, scale, dtype=np.float32, out=out)
    if kind == "f":
        a = a.astype(np.float32, copy=False)
        # NaN or infinity (a corrupt float file) would poison every sum near it: such
        # samples are silence. One BLAS dot product finds them (NaN or infinite if any
        # sample is; unlike a ufunc's sum, it raises no floating-point warning).
        if not math.isfinite(np.dot(a, a)):
            a = np.where(np.isfinite(a), a, np.float32(0.0))
    elif kind == "u":
        mid = 1 << (8 * a.dtype.itemsize - 1)
        a = (a.astype(np.float32) - np.float32(mid)) * np.float32(1.0 / mid)
    elif kind == "b":
        a = a.astype(np.float32)
    else:
        raise ValueError(f"decode wants numeric samples, not dtype {a.dtype}")
    if out is None:
        return a
    out[...] = a
    return out


def as_mono(block: np.ndarray) -> np.ndarray:
    """`block` as a 1-D array (a (n, 1) or (1, n) block flattened); ValueError otherwise."""
    a = np.asarray(block)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise ValueError(f"decode wants a mono block (1-D), not shape {a.shape}")
    if a.dtype.kind not in "iufb":
        raise ValueError(f"decode wants numeric samples, not dtype {a.dtype}")
    return a


class LTCDecoder:
    """Streaming LTC decoder for one mono signal at `sample_rate`.

    `fps_hint` narrows the rates searched to that rate (+-15 % play speed); None accepts
    23.976 to 30 fps at 0.85x to 1.15x.
    """

    def __init__(self, sample_rate: int, *, fps_hint: float | None = None) -> None:
        if not 4000 <= sample_rate <= 768000:
            raise ValueError(f"sample rate {sample_rate} Hz is outside 4000..768000")
        if fps_hint is not None and not 10 <= fps_hint <= 60:
            raise ValueError(f"fps_hint {fps_hint} is outside 10..60")
        self.sample_rate = sample_rate
        lo, hi = (fps_hint, fps_hint) if fps_hint else (FPS_MIN, FPS_MAX)
        cell_min = sample_rate / (hi * SPEED_MAX * FRAME_BITS)  # samples
        cell_max = sample_rate / (lo * SPEED_MIN * FRAME_BITS)  # samples
        self.hop = _hop_size(sample_rate)  # samples
        # Step detector half-width: most of the shortest half cell, so adjacent transitions
        # never share a window.
        width = max(2, int(0.75 * 0.5 * cell_min))
        merge_gap = 1.3 * cell_max
        block = 1 << max(1, int(math.log2(0.5 * cell_max)))  # samples, at most half a cell
        self._paths = [
            (
                EdgeFinder(sample_rate, self.hop, width, block, merge_gap, mode),
                Framer(cell_min, cell_max),
            )
            for mode in ("step", "pulse")
        ]
        self._crossings = CrossingFinder(sample_rate, self.hop, cell_min, cell_max)  # the fast path
        self._dup_gap = self._crossings.gap_min  # samples: same-sign transitions closer: one
        pad = self._crossings.pad
        self._margin = max(pad, *(f.margin for f, _ in self._paths))  # samples before a hop
        self._lookahead = max(pad, *(f.lookahead for f, _ in self._paths))  # samples after it
        # Raw history kept: the frames the lookback may read, a hop, the settling time.
        # A predicted frame is read only once the framer would surely have found it.
        self._fly_delay = 2 * merge_gap + 2 * self._lookahead + 2 * cell_max  # samples
        # The step conditioning counts as locked for this long after its frames end.
        self._lock_hold = 4 * cell_max * FRAME_BITS + self._fly_delay  # samples
        self._history = (
            int((LOOKBACK_FRAMES + 2) * cell_max * FRAME_BITS) + self.hop + 4 * self._margin
        )
        self._batch = min(BATCH_HOPS, max(1, BATCH_SAMPLES // self.hop))  # hops a batch
        self._cap = self._history + self._batch * self.hop + self._lookahead + self.hop
        self._buf = np.zeros(self._cap, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next block starts a new one (at its position, or 0)."""
        for finder, framer in self._paths:
            finder.reset()
            framer.reset()
        self._crossings.reset()
        # Hops in a row the crossings proved clean, to the last: from CLEAN_STREAK on, a
        # hop's step transitions are its crossings.
        self._clean_streak = 0
        self._step_last = (-math.inf, 0)  # (t, s) of the last step transition found
        self._origin: int | None = None  # absolute sample of the first hop
        self._pulse_next: int | None = None  # hop the pulse conditioning would continue at
        self._buf_start = 0  # absolute sample of _buf[0]
        self._buf_len = 0
        self._next_hop = 0  # absolute sample where the next hop starts
        self._last_t0 = -math.inf  # stream start of the last frame returned
        self._last_half = 0.0  # samples: its half cell
        self._last_rev = False
        self._fly_slot = FLYWHEEL_FRAMES + 1  # next predicted frame to read (none yet)

    @property
    def position(self) -> int | None:
        """Absolute sample the next block continues at (None before the first block)."""
        if self._origin is None:
            return None
        return self._buf_start + self._buf_len

    def decode(self, block: np.ndarray, position: int | None = None) -> list[LTCFrame]:
        """Feed a mono block starting at absolute sample `position` (None: right after the
        previous block; a jump starts a new stream after flushing the old one). Returns the
        frames completed by it, in stream order."""
        x = as_mono(block)
        out: list[LTCFrame] = []
        if self._origin is None:
            self._start(0 if position is None else int(position))
        elif position is not None and int(position) != self.position:
            out.extend(self.flush())
            self._start(int(position))
        done = 0
        while done < x.size:
            room = self._cap - self._buf_len
            if room == 0:
                self._compact()
                room = self._cap - self._buf_len
            take = min(room, x.size - done)
            to_float(x[done : done + take], out=self._buf[self._buf_len : self._buf_len + take])
            self._buf_len += take
            done += take
            self._run(out, final=False)
        return out

    def flush(self) -> list[LTCFrame]:
        """End of stream: frames still pending (the last one may lack only its final edge).
        The decoder is then reset, ready for a new stream."""
        out: list[LTCFrame] = []
        if self._origin is not None:
            self._run(out, final=True)
        self.reset()
        return out

    # -- internals ---------------------------------------------------------------------

    def _start(self, position: int) -> None:
        self.reset()
        self._origin = position
        self._buf_start = position - self._margin
        self._buf[: self._margin] = 0.0  # silence before the stream
        self._buf_len = self._margin
        self._next_hop = position

    def _compact(self) -> None:
        keep_from = self._next_hop - self._history - self._margin
        drop = keep_from - self._buf_start
        if drop <= 0:
            return
        n = self._buf_len - drop
        self._buf[:n] = self._buf[drop : self._buf_len]
        self._buf_start += drop
        self._buf_len = n

    def _run(self, out: list[LTCFrame], final: bool) -> None:
        """Process every complete hop in the buffer (and, when final, what is left)."""
        end = self._buf_start + self._buf_len  # absolute sample after the last buffered one
        while True:
            hops = (end - self._lookahead - self._next_hop) // self.hop
            if hops <= 0:
                break
            if self._next_hop + min(hops, self._batch) * self.hop + self._lookahead > (
                self._buf_start + self._cap
            ):
                break
            hops = min(hops, self._batch)
            self._process(hops, out, final=False)
        if final:
            # Pad the last partial hop with silence and close everything.
            need = self._next_hop + self.hop + self._lookahead - self._buf_start
            if need > self._cap:
                self._compact()
                need = self._next_hop + self.hop + self._lookahead - self._buf_start
            self._buf[self._buf_len : need] = 0.0
            self._buf_len = max(self._buf_len, need)
            self._process(1, out, final=True, stream_end=float(end))
            return
        if self._buf_len > self._cap - self.hop:
            self._compact()

    def _process(
        self, hops: int, out: list[LTCFrame], final: bool, stream_end: float = math.inf
    ) -> None:
        first = self._next_hop
        h = self.hop
        (step, step_framer), (pulse, pulse_framer) = self._paths
        found = [self._run_path(step, step_framer, first, hops, final, stream_end)]
        # The pulse conditioning runs only while the step one is not locked: on hops where
        # it had found fewer than three frames ending in the last four frames' time. Only frames
        # it had found before the hop began count, so batching hops changes nothing.
        for k, run in self._pulse_wanted(first, hops):
            start = first + k * h  # hops [k, run) want the pulse conditioning
            if self._pulse_next != start:
                pulse.reset()
                pulse_framer.reset()
            last = final and run == hops
            got = self._run_path(pulse, pulse_framer, start, run - k, last, stream_end)
            found.append(self._differentiated(got))
            self._pulse_next = first + run * h
        self._next_hop = first + hops * h
        cand = None
        for c in found:
            if c is not None:
                cand = _merge(cand, c)
        self._emit(cand, out, float(self._next_hop))

    def _run_path(self, finder, framer, first, hops, final, stream_end) -> Candidates | None:
        # The transition finder takes FIND_HOPS at a time: its arrays (0.5 MB each) stay in
        # the CPU's level-2 cache, while its 70-odd numpy calls per call are spread over
        # enough samples (measured: 128 hops faster than 64 or 256). The framer takes the
        # whole batch (fewer, larger numpy calls).
        found = []
        step = finder is self._paths[0][0]
        for k in range(0, hops, FIND_HOPS):
            n = min(FIND_HOPS, hops - k)
            at = first + k * self.hop
            last = final and k + n == hops
            if step:
                found.extend(self._find_step(at, n, last))
            else:
                found.append(self._find(finder, at, n, last)[:2])
        if len(found) == 1:
            t, s = found[0]
        else:
            t = np.concatenate([f[0] for f in found])
            s = np.concatenate([f[1] for f in found])
        framer.push(t, s)
        if final:
            framer.close(stream_end)
        return framer.frames(self._after())

    def _find(self, finder: EdgeFinder, at: int, n: int, final: bool, reach: int = 0):
        """The step detector's transitions in hops [at, at + n * hop)."""
        lo = at - finder.margin - self._buf_start
        hi = at + n * self.hop + finder.lookahead - self._buf_start
        return finder.find(self._buf[lo:hi], at, n, final=final, reach=reach)

    def _find_step(self, at: int, n: int, final: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        """The step conditioning's transitions in hops [at, at + n * hop), as (t, s) parts in
        stream order: zero crossings on the hops they prove clean (`crossings.py`, the fast
        path) from the CLEAN_STREAK-th clean hop in a row on, the step detector's peaks on
        the others.

        Where the two meet, a transition on the border may be found by both (the detector
        reaches REACH samples back after clean hops): of two same-sign neighbours closer
        than the crossings' shortest interval, the second is dropped. The last hop of the
        stream always goes to the detector, which closes what it holds."""
        h = self.hop
        pad = self._crossings.pad
        lo = at - pad - self._buf_start
        t1, s1, hop_of, clean = self._crossings.find(self._buf[lo : lo + n * h + 2 * pad], at, n)
        if final:
            clean[-1] = False
        # A hop takes its crossings only from the CLEAN_STREAK-th clean hop in a row on:
        # noisy code proves some hops clean and not others, and switching between the two
        # paths hop by hop would cost a detector call (some 70 numpy calls) per hop.
        was_fast = self._clean_streak >= CLEAN_STREAK  # the hop before took its crossings
        if self._clean_streak + 1 >= CLEAN_STREAK and clean.all():
            self._clean_streak += n
        else:
            k = np.arange(n)
            last_unclean = np.maximum.accumulate(np.where(clean, -1, k))
            streak = np.where(last_unclean < 0, k + 1 + self._clean_streak, k - last_unclean)
            self._clean_streak = int(streak[-1])
            clean = streak >= CLEAN_STREAK
        if was_fast and clean.all():
            parts = [(t1, s1)]  # the usual case with clean LTC: crossings only
        else:
            finder = self._paths[0][0]
            change = np.flatnonzero(np.diff(clean.astype(np.int8))) + 1
            bounds = [0, *change.tolist(), n]
            parts = []
            for k0, k1 in zip(bounds[:-1], bounds[1:], strict=True):
                if clean[k0]:
                    if not was_fast:
                        parts.append(finder.release())
                    i0, i1 = np.searchsorted(hop_of, [k0, k1])
                    parts.append((t1[i0:i1], s1[i0:i1]))
                else:
                    reach = REACH if was_fast else 0
                    t2, s2, _a2 = self._find(finder, at + k0 * h, k1 - k0, final and k1 == n, reach)
                    parts.append((t2, s2))
                was_fast = bool(clean[k0])
        out = []
        for t, s in parts:
            if not t.size:
                continue
            if s[0] == self._step_last[1] and t[0] - self._step_last[0] < self._dup_gap:
                t, s = t[1:], s[1:]  # the border transition, found by both
                if not t.size:
                    continue
            self._step_last = (float(t[-1]), int(s[-1]))
            out.append((t, s))
        return out or [(t1[:0], s1[:0])]

    def _differentiated(self, cand: Candidates | None) -> Candidates | None:
        """The pulse conditioning's frames over which the raw signal is spiky, as
        differentiated LTC is (its median level under SPIKY times its 90th percentile; a
        square wave's is about 1, with noise, clicks or filtering 0.75 or more; the Zoom F6 +
        VXLR takes' 0.06 to 0.31). On square-wave LTC the pulse conditioning integrates the
        steps into ramps and finds every transition about a detector width late: its frames
        there would be as late (6 samples at 48 kHz), where the step conditioning and the
        flywheel read them right."""
        if cand is None:
            return None
        keep = []
        for i, (t0, half) in enumerate(zip(cand.t0.tolist(), cand.half.tolist(), strict=True)):
            lo = max(int(t0) - self._buf_start, 0)
            hi = min(int(t0 + HALVES * half) + 1 - self._buf_start, self._buf_len)
            level = np.abs(self._buf[lo:hi])
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

    def _pulse_wanted(self, first: int, hops: int) -> list[tuple[int, int]]:
        """Runs [k, end) of the hops from `first` on which the step conditioning is not
        locked: it had found fewer than three frames ending in the last four frames' time."""
        ends = self._paths[0][1].found_ends
        if hops < 8:  # streaming: a hop or two per call, plain Python is cheapest
            starts = [first + k * self.hop for k in range(hops)]
            lo = [bisect.bisect_left(ends, t - self._lock_hold) for t in starts]
            hi = [bisect.bisect_left(ends, t - self._fly_delay) for t in starts]
            wanted = [b - a < 3 for a, b in zip(lo, hi, strict=True)]
            if not any(wanted):
                return []  # locked (the usual case)
            wanted = np.array(wanted)
        else:
            starts = first + self.hop * np.arange(hops)
            ends = np.asarray(ends)
            lo = np.searchsorted(ends, starts - self._lock_hold, side="left")
            hi = np.searchsorted(ends, starts - self._fly_delay, side="left")
            wanted = hi - lo < 3
        if not wanted.any():
            return []
        change = np.flatnonzero(np.diff(np.concatenate([[0], wanted, [0]]).astype(np.int8)))
        return list(zip(change[0::2].tolist(), change[1::2].tolist(), strict=True))

    def _after(self) -> float:
        return self._last_t0 + 0.5 * HALVES * self._last_half

    def _emit(self, cand: Candidates | None, out: list[LTCFrame], upto: float) -> None:
        """Accept the candidates in stream order, reading any frame the framer missed
        between them (the flywheel), then the slots after the last one that are due."""
        accepted: list[tuple] = []  # (t0, half, bits, fields, reverse, row): stream order
        if cand is not None:
            halves = cand.half.tolist()
            revs = cand.reverse.tolist()
            t0s = cand.t0.tolist()
            # A run of candidates each one frame after the one before (bulk decoding of
            # clean code) leaves this loop nothing to decide: each is accepted, with no
            # flywheel read before it. Such a run is found in a few numpy calls and taken
            # whole; the loop handles the rest one by one (the same frames either way).
            run_end = self._simple_runs(cand)
            i = 0
            while i < len(t0s):
                t0 = t0s[i]
                if (
                    run_end
                    and i
                    and run_end[i - 1] > i
                    and self._fly_slot == 1
                    and self._last_t0 == t0s[i - 1]
                ):
                    end = run_end[i - 1]  # rows [i, end) are accepted as they come
                    accepted.extend(
                        zip(
                            t0s[i:end],
                            halves[i:end],
                            repeat(None),
                            repeat(None),
                            revs[i:end],
                            range(i, end),
                        )
                    )
                    self._last_t0 = t0s[end - 1]
                    self._last_half = halves[end - 1]
                    self._last_rev = revs[end - 1]
                    self._fly_slot = 1
                    i = end
                    continue
                i += 1
                # A frame right after the last one (the usual case) leaves the flywheel
                # nothing to read: the same test as `_fly`'s, without the call.
                slot = self._fly_slot
                if slot <= FLYWHEEL_FRAMES:
                    span = HALVES * self._last_half
                    if self._last_t0 + slot * span <= t0 - 0.5 * span:
                        self._fly(upto, before=t0, accepted=accepted)
                else:
                    self._fly(upto, before=t0, accepted=accepted)
                if t0 <= self._last_t0 + 0.5 * HALVES * self._last_half:  # `_after()`
                    continue  # the same frame, found by the other conditioning
                # bits and fields stay in `cand` (row i - 1) until the frames are built
                self._accept(t0, halves[i - 1], None, None, revs[i - 1], accepted, i - 1)
        self._fly(upto, before=None, accepted=accepted)
        if accepted:
            out.extend(self._make_frames(accepted, cand))

    @staticmethod
    def _simple_runs(cand: Candidates) -> list[int] | None:
        """run_end[k]: the candidates k + 1 .. run_end[k] - 1 each follow the one before as
        `_emit`'s loop would accept it right after that one: not a duplicate of it (later
        than half a frame after its start) and with no flywheel slot before it (earlier than
        a frame and a half after). The same float expressions as the loop's, so the same
        answer. None for a few candidates (streaming: the loop costs less)."""
        if len(cand) < 8:
            return None
        prev = cand.t0[:-1]
        cur = cand.t0[1:]
        span = HALVES * cand.half[:-1]  # samples
        fresh = cur > prev + 0.5 * HALVES * cand.half[:-1]  # `_after()` of the one before
        no_fly = prev + 1 * span > cur - 0.5 * span  # `_fly`'s first slot not due before it
        # pair k (candidate k to k + 1) broken: a run from k ends at the next broken pair
        broken = np.append((~(fresh & no_fly)).nonzero()[0], cur.size)
        return (broken[np.searchsorted(broken, np.arange(len(cand)))] + 1).tolist()

    def _fly(self, upto: float, before: float | None, accepted: list[tuple]) -> None:
        """Read predicted frames after the last one accepted, while they are due by `upto`
        (late enough that the framer would have found them) and start before `before`."""
        while self._fly_slot <= FLYWHEEL_FRAMES:
            half = self._last_half
            span = HALVES * half
            t0 = self._last_t0 + self._fly_slot * span
            if t0 + span + self._fly_delay > upto:
                return
            if before is not None and t0 > before - 0.5 * span:
                return
            self._fly_slot += 1
            got = self._read(t0, half, self._last_rev)
            if got is not None:
                self._accept(*got, self._last_rev, accepted)

    def _accept(
        self, t0, half, bits, fields, reverse: bool, accepted: list[tuple], row: int = -1
    ) -> None:
        """Take a frame (row: its index in this batch's candidates, -1 if read on the grid)."""
        if self._fly_slot > FLYWHEEL_FRAMES:
            # First frame of a run: the frames just before it may have been there, broken
            # by noise; read them on the grid now that it is known (they arrive with it).
            earlier = []
            for k in range(1, LOOKBACK_FRAMES + 1):
                span = HALVES * half
                t_k = t0 - k * span
                if t_k <= self._after():
                    break
                got = self._read(t_k, half, reverse)
                if got is None:
                    break
                earlier.append(got)
            for got in reversed(earlier):
                accepted.append((*got, reverse, -1))
        accepted.append((t0, half, bits, fields, reverse, row))
        self._last_t0 = t0
        self._last_half = half
        self._last_rev = reverse
        self._fly_slot = 1

    def _read(self, t0: float, half: float, reverse: bool):
        """(t0, half, bits, fields) of the frame on the grid near t0, or None."""
        t = self._paths[0][1].t
        t0, fit_half, used = refit(t, t0, half)
        if used < FRAME_BITS:
            return None
        bits = read_bits(self._buf, self._buf_start, t0, fit_half)
        if bits is None:
            return None
        if reverse:
            bits = bits[::-1].copy()
        fields = field_values(bits)
        if not labels_ok(bits[None], fields[None])[0]:
            return None
        return t0, fit_half, bits, fields

    def _make_frame(self, t0, half, bits, fields, reverse: bool) -> LTCFrame:
        """One LTCFrame, as `_make_frames` builds many."""
        span = HALVES * half
        lo = max(int(t0) - self._buf_start, 0)
        hi = min(int(math.ceil(t0 + span)) + 1 - self._buf_start, self._buf_len)
        seg = self._buf[lo:hi]
        peak = max(float(seg.max()), -float(seg.min())) if hi > lo else 0.0
        f = fields.tolist()
        start, end = (t0 + span, t0) if reverse else (t0, t0 + span)
        user = 0
        for g in range(8):
            user |= f[8 + g] << (4 * g)
        bgf = _BGF_25 if family_25(self.sample_rate / span, f[1] * 10 + f[0]) else _BGF_30
        b = bits.tolist()
        return LTCFrame(
            f[7] * 10 + f[6],
            f[5] * 10 + f[4],
            f[3] * 10 + f[2],
            f[1] * 10 + f[0],
            bool(b[10]),
            bool(b[11]),
            user,
            b[bgf[0]] | (b[bgf[1]] << 1) | (b[bgf[2]] << 2),
            start,
            end,
            reverse,
            _dbfs(peak),
            bits.astype(np.uint8).tobytes(),
        )

    def _make_frames(self, accepted: list[tuple], cand: Candidates | None) -> list[LTCFrame]:
        """LTCFrames for the accepted (t0, half, bits, fields, reverse, row), all at once: the
        fields, flags and levels are computed over the whole batch in a few numpy calls,
        and the objects made by `build_frames` (no constructor call per frame). A few
        frames (streaming) are built one by one, which costs fewer numpy calls; both give
        the same frames. Rows read from `cand` (row >= 0) carry their bits there."""
        if len(accepted) < 4:
            return [
                self._make_frame(*a[:5])
                if a[5] < 0
                else self._make_frame(a[0], a[1], cand.bits[a[5]], cand.fields[a[5]], a[4])
                for a in accepted
            ]
        t0, half, _bits, _fields, rev, rows = zip(*accepted, strict=True)
        t0 = np.array(t0)  # samples
        span = HALVES * np.array(half)  # samples
        rows = np.array(rows)  # index into `cand`, or -1 (read by the flywheel)
        if cand is not None:
            bits = cand.bits[np.maximum(rows, 0)]  # (n, 80) uint8
            fields = cand.fields[np.maximum(rows, 0)]  # (n, 16): BCD digits, user groups
            for i in np.flatnonzero(rows < 0).tolist():
                bits[i] = accepted[i][2]
                fields[i] = accepted[i][3]
        else:
            bits = np.stack(_bits)
            fields = np.stack(_fields)
        rev = np.array(rev, dtype=bool)
        # Level: peak of the raw input over each frame's span, as buffer indices [lo, hi).
        lo = np.maximum(np.trunc(t0).astype(np.int64) - self._buf_start, 0)
        hi = np.minimum(np.ceil(t0 + span).astype(np.int64) + 1 - self._buf_start, self._buf_len)
        hi = np.maximum(hi, lo)
        r0 = int(lo.min())
        r1 = int(hi.max())
        if r1 < self._cap:
            x = self._buf[r0 : r1 + 1]  # one spare sample: reduceat's last index
        else:
            x = np.append(self._buf[r0:r1], np.float32(0.0))
        pairs = np.empty(2 * t0.size, dtype=np.int64)
        pairs[0::2] = lo - r0
        pairs[1::2] = hi - r0
        top = np.maximum.reduceat(x, pairs)[0::2]
        bottom = np.minimum.reduceat(x, pairs)[0::2]
        peak = np.maximum(top, -bottom).astype(np.float64)
        peak[hi == lo] = 0.0
        # `_dbfs` (math.log10, as `_make_frame`: the same bits), without a call per frame
        # unless a frame is silent
        peaks = peak.tolist()
        if all(peaks):
            level = [20.0 * v for v in map(math.log10, peaks)]
        else:
            level = list(map(_dbfs, peaks))
        labels = fields[:, [7, 5, 3, 1]] * 10 + fields[:, [6, 4, 2, 0]]  # h, m, s, f
        user = fields[:, 8:16] @ (1 << (4 * np.arange(8, dtype=np.int64)))
        nominal25 = family_25(self.sample_rate / span, labels[:, 3])  # flags move at 25 fps
        # BGF0 | BGF1 << 1 | BGF2 << 2, where `flag_bits` puts them for each rate family
        # (three column picks: numpy's integer matrix product has no BLAS)
        bgf = sum(
            (1 << n) * np.where(nominal25, bits[:, at25], bits[:, at30]).astype(np.int64)
            for n, (at25, at30) in enumerate(zip(_BGF_25, _BGF_30, strict=True))
        )
        start = np.where(rev, t0 + span, t0)
        end = np.where(rev, t0, t0 + span)
        flags = bits[:, [10, 11]].astype(bool).T  # drop frame, colour frame
        return build_frames(
            [
                *labels.T.tolist(),
                *flags.tolist(),
                user.tolist(),
                bgf.tolist(),
                start.tolist(),
                end.tolist(),
                rev.tolist(),
                level,
                # rows as 80-byte items: `tolist` gives each as a bytes object
                np.ascontiguousarray(bits, np.uint8).view(_BITS_ROW).ravel().tolist(),
            ]
        )


def _dbfs(peak: float) -> float:
    """Peak level in dBFS (full scale 1.0)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _merge(a: Candidates | None, b: Candidates | None) -> Candidates | None:
    """Both sets in stream order (a's first where they tie); duplicates are dropped later."""
    if a is None:
        return b
    if b is None:
        return a
    both = Candidates.join(a, b)
    return both.take(np.argsort(both.t0, kind="stable"))


def decode_all(samples: np.ndarray, sample_rate: int) -> list[LTCFrame]:
    """Every frame in a whole mono signal (samples from absolute position 0)."""
    decoder = LTCDecoder(sample_rate)
    frames = decoder.decode(samples, 0)
    frames.extend(decoder.flush())
    return frames
