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
   is spiky (`pulse.spiky`): on square-wave LTC they would be a detector width late.
4. `sequencer.FrameSequencer` accepts the candidates in stream order and has `flywheel`
   read the frames the framer missed (noise broke a transition or two) on the grid
   predicted from the last frame, with matched-filter bit decisions, for up to
   FLYWHEEL_FRAMES frames; and when a run of frames starts, the LOOKBACK_FRAMES before its
   first are read on its grid and returned with it (late by those frames).
5. `assemble` makes the `LTCFrame`s (`decode`), or the same values as columns
   (`decode_table`, for bulk callers): fields, flags, start and end, level.

The samples come in through `samples.py`: signed integers are kept as they come and scaled
where they are read (`samples.scaled`), any other type is scaled to float32 on the way in.

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
fewer numpy calls. A block of kept samples (`samples.py`) longer than the buffer is read
where it lies, a file's memory map for `stagebox ltc decode`: only its head and tail pass
through the buffer (`_in_place`). No threads, no I/O; buffers are allocated once and numpy
allocates only its temporaries. Measured against libltc in `docs/benchmarks.md`.
"""

from __future__ import annotations

import math

import numpy as np

from stagebox.ltc.assemble import frame_table, join_tables, make_frames
from stagebox.ltc.crossings import CrossingFinder
from stagebox.ltc.edges import EdgeFinder
from stagebox.ltc.flywheel import read_bits, refit
from stagebox.ltc.frame import FRAME_BITS, LTCFrame
from stagebox.ltc.framer import HALVES, Candidates, Framer, field_values, labels_ok
from stagebox.ltc.pulse import spiky, unlocked_runs
from stagebox.ltc.samples import as_mono, kept_as_is, scaled, to_float
from stagebox.ltc.sequencer import LOOKBACK_FRAMES, FrameSequencer

__all__ = ["LTCDecoder", "decode_all", "to_float"]

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
REACH = 2  # samples: how far back the step detector looks for peaks after clean hops


CLEAN_STREAK = 3  # clean hops in a row before the crossings are used (see `_find_step`)


def _hop_size(sample_rate: int) -> int:
    """A power of two near HOP_SECONDS of audio (1024 at 44.1 and 48 kHz, 2048 at 96)."""
    return 1 << max(4, round(math.log2(sample_rate * HOP_SECONDS)))


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
        self._sequencer = FrameSequencer(self._read, self._fly_delay)
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
        self._sequencer.reset()

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
        out: list[LTCFrame] = []
        self._feed(block, position, self._sink(out))
        return out

    def decode_table(
        self, block: np.ndarray, position: int | None = None, *, brief: bool = False
    ) -> dict | None:
        """`decode`, the frames as columns (`assemble.frame_table`: numpy arrays by LTCFrame
        field name, one row per frame; `brief`: only what a frame's line shows, the rest
        None and not worked out), or None if the block completed none. For a caller that
        wants the frames' values in bulk (`stagebox ltc decode`): no object per frame."""
        parts: list[dict] = []
        self._feed(block, position, self._sink(parts, True, brief))
        return join_tables(parts)

    def flush_table(self, *, brief: bool = False) -> dict | None:
        """`flush`, the frames as `decode_table` gives them."""
        parts: list[dict] = []
        self._end(self._sink(parts, True, brief))
        return join_tables(parts)

    def _sink(self, out: list, table: bool = False, brief: bool = False):
        """Where `_process` puts the frames it accepted: LTCFrames added to `out`, or (with
        `table`) a `frame_table` appended to it."""

        def sink(accepted: list[tuple], cand: Candidates | None) -> None:
            found = (self._buf, self._buf_start, self._buf_len, self.sample_rate, accepted, cand)
            if table:
                out.append(frame_table(*found, brief))
            else:
                out.extend(make_frames(*found))

        return sink

    def _feed(self, block: np.ndarray, position: int | None, out) -> None:
        """Take a block in (as `decode`), handing each batch's frames to `out`."""
        x = as_mono(block)
        if self._origin is None:
            self._start(0 if position is None else int(position), x.dtype)
        elif position is not None and int(position) != self.position:
            self._end(out)
            self._start(int(position), x.dtype)
        elif x.dtype != self._buf.dtype and self._buf.dtype != np.float32:
            self._buf = scaled(self._buf)  # another type mid-stream: float32 from here on
        as_is = x.dtype == self._buf.dtype and self._buf.dtype != np.float32
        # A long block of kept samples is read where it lies once the history the hops need
        # is inside it: only its head (and then its tail) is copied into the buffer.
        in_place = as_is and x.size >= self._cap and x.flags.c_contiguous
        at = self._buf_start + self._buf_len  # absolute sample of x[0]
        head = self._history + self._margin + self._lookahead + self.hop  # samples
        done = 0
        while done < x.size:
            if in_place and self._next_hop - self._history - self._margin >= at:
                self._in_place(x, at, out)
                return
            room = self._cap - self._buf_len
            if room == 0:
                self._compact()
                room = self._cap - self._buf_len
            take = min(room, x.size - done)
            if in_place and done < head:
                take = min(take, head - done)
            into = self._buf[self._buf_len : self._buf_len + take]
            if as_is:
                into[...] = x[done : done + take]
            else:
                to_float(x[done : done + take], out=into)
            self._buf_len += take
            done += take
            self._run(out, final=False)

    def _in_place(self, x: np.ndarray, at: int, out) -> None:
        """Every complete hop of block `x` (x[0] at absolute sample `at`, the history the
        hops need already inside it), read from `x` itself; then what the buffer keeps (the
        history and the samples after the last hop) copied into it. The same reads as
        through the buffer, without copying the block into it first."""
        buf, cap = self._buf, self._cap
        self._buf, self._cap = x, x.size
        self._buf_start, self._buf_len = at, x.size
        try:
            self._run(out, final=False, compact=False)
        finally:
            keep_from = self._next_hop - self._history - self._margin
            tail = x[keep_from - at :]
            self._buf, self._cap = buf, cap
            self._buf[: tail.size] = tail
            self._buf_start, self._buf_len = keep_from, tail.size

    def flush(self) -> list[LTCFrame]:
        """End of stream: frames still pending (the last one may lack only its final edge).
        The decoder is then reset, ready for a new stream."""
        out: list[LTCFrame] = []
        self._end(self._sink(out))
        return out

    def _end(self, out) -> None:
        """End of stream (as `flush`), handing the last frames to `out`."""
        if self._origin is not None:
            self._run(out, final=True)
        self.reset()

    # -- internals ---------------------------------------------------------------------

    def _start(self, position: int, dtype: np.dtype) -> None:
        """A new stream from `position`, its samples kept as `dtype`'s if `kept_as_is`."""
        keep = dtype if kept_as_is(dtype) else np.dtype(np.float32)
        if self._buf.dtype != keep:
            self._buf = np.zeros(self._cap, dtype=keep)
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

    def _run(self, out, final: bool, compact: bool = True) -> None:
        """Process every complete hop in the buffer (and, when final, what is left); then
        make room in it (unless not to `compact`)."""
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
        if compact and self._buf_len > self._cap - self.hop:
            self._compact()

    def _process(self, hops: int, out, final: bool, stream_end: float = math.inf) -> None:
        """Hops [next, next + hops): their frames to `out(accepted, cand)` (a sink)."""
        first = self._next_hop
        h = self.hop
        (step, step_framer), (pulse, pulse_framer) = self._paths
        found = [self._run_path(step, step_framer, first, hops, final, stream_end)]
        # The pulse conditioning runs only while the step one is not locked: on hops where
        # it had found fewer than three frames ending in the last four frames' time. Only frames
        # it had found before the hop began count, so batching hops changes nothing.
        ends = step_framer.found_ends
        for k, run in unlocked_runs(ends, first, hops, h, self._lock_hold, self._fly_delay):
            start = first + k * h  # hops [k, run) want the pulse conditioning
            if self._pulse_next != start:
                pulse.reset()
                pulse_framer.reset()
            last = final and run == hops
            got = self._run_path(pulse, pulse_framer, start, run - k, last, stream_end)
            found.append(spiky(got, self._buf, self._buf_start, self._buf_len))
            self._pulse_next = first + run * h
        self._next_hop = first + hops * h
        cand = None
        for c in found:
            if c is not None:
                cand = _merge(cand, c)
        accepted = self._sequencer.emit(cand, float(self._next_hop))
        if accepted:
            out(accepted, cand)

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
        framer.push([f[0] for f in found], [f[1] for f in found])
        if final:
            framer.close(stream_end)
        return framer.frames(self._sequencer.after())

    def _find(self, finder: EdgeFinder, at: int, n: int, final: bool, reach: int = 0):
        """The step detector's transitions in hops [at, at + n * hop)."""
        lo = at - finder.margin - self._buf_start
        hi = at + n * self.hop + finder.lookahead - self._buf_start
        return finder.find(scaled(self._buf[lo:hi]), at, n, final=final, reach=reach)

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

    def _read(self, t0: float, half: float, reverse: bool):
        """(t0, half, bits, fields) of the frame on the grid near t0, or None."""
        t = self._paths[0][1].t
        t0, fit_half, used = refit(t, t0, half)
        if used < FRAME_BITS:
            return None
        # The samples read_bits may read (a sample to spare each side), as float32.
        lo = max(math.floor(t0 - 2 * fit_half) - 2, self._buf_start)
        hi = min(math.ceil(t0 + (HALVES + 2) * fit_half) + 3, self._buf_start + self._buf.size)
        x = scaled(self._buf[lo - self._buf_start : max(lo, hi) - self._buf_start])
        bits = read_bits(x, lo, t0, fit_half)
        if bits is None:
            return None
        if reverse:
            bits = bits[::-1].copy()
        fields = field_values(bits)
        if not labels_ok(bits[None], fields[None])[0]:
            return None
        return t0, fit_half, bits, fields


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
