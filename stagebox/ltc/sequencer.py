"""Which frames the decoder returns, in stream order: the framer's candidates, the frames it
missed read on the predicted grid (the flywheel), and the frames before a run's first (the
lookback).

The framer finds frames whose every transition is clean. Noise that breaks a transition or two
loses a frame there, though its place and cell length are known from the frame before: the
flywheel reads up to FLYWHEEL_FRAMES frames after the last one accepted on that grid, with
matched-filter bit decisions (`flywheel.read_bits`, through the decoder's `read`), once they
are due: late enough that the framer would surely have found them (`fly_delay` after their
end). When a run of frames starts, the LOOKBACK_FRAMES before its first are read on its grid
and returned with it (late by those frames). A candidate within half a frame of the last one
accepted is that frame again, found by the other conditioning, and is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import repeat

import numpy as np

from stagebox.ltc.framer import HALVES, Candidates

FLYWHEEL_FRAMES = 8  # frames after the last decoded one read on the predicted grid
LOOKBACK_FRAMES = 4  # frames before the first of a run read on its grid


class FrameSequencer:
    """The frames accepted so far, and the flywheel's place after the last one.

    `read(t0, half, reverse)` reads the frame on the grid near t0 (samples) with half cells of
    `half` samples: (t0, half, bits, fields) or None. `fly_delay` (samples) is how long after a
    predicted frame's end the framer would surely have found it.
    """

    def __init__(self, read: Callable, fly_delay: float) -> None:
        self._read = read
        self._fly_delay = fly_delay
        self.reset()

    def reset(self) -> None:
        self._last_t0 = -math.inf  # stream start of the last frame returned
        self._last_half = 0.0  # samples: its half cell
        self._last_rev = False
        self._fly_slot = FLYWHEEL_FRAMES + 1  # next predicted frame to read (none yet)

    def after(self) -> float:
        """Samples: a frame starting no later than this is the last one accepted again."""
        return self._last_t0 + 0.5 * HALVES * self._last_half

    def emit(self, cand: Candidates | None, upto: float) -> list[tuple]:
        """Accept the candidates in stream order, reading any frame the framer missed
        between them (the flywheel), then the slots after the last one that are due: the
        frames to return, as (t0, half, bits, fields, reverse, row), row the candidate's
        index in `cand` (its bits and fields are there) or -1 (read on the grid)."""
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
                if t0 <= self._last_t0 + 0.5 * HALVES * self._last_half:  # `after()`
                    continue  # the same frame, found by the other conditioning
                # bits and fields stay in `cand` (row i - 1) until the frames are built
                self._accept(t0, halves[i - 1], None, None, revs[i - 1], accepted, i - 1)
        self._fly(upto, before=None, accepted=accepted)
        return accepted

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
        fresh = cur > prev + 0.5 * HALVES * cand.half[:-1]  # `after()` of the one before
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
                if t_k <= self.after():
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
