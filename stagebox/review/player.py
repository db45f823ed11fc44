"""The chasing player: a take played out of the headphones, locked to the incoming LTC.

Each period the engine asks for the block that will be heard from capture sample `heard_at`
on. For every output sample the player works out which sample of the take belongs there, from
the clock's fit alone (no running position that could drift):

    capture sample at the ear -> timecode (frames, from the fit) -> samples since midnight
    at the take's rate -> minus the take's TimeReference = position in the take

so a loop wrap or a relocate re-derives the position on the first period after the jump,
and varispeed shows in the fit's frame period and is followed.

Two regimes, chosen each period from the measured speed (the fit's samples per frame against
the rate's nominal):

- *Locked to the sample* (the LTC runs at nominal speed, within `varispeed_tolerance`: the
  stage's and the DAW's sample clocks differ by a crystal's tolerance, never by a pull-up):
  the take's first sample is placed exactly where the recorder put it, on the whole sample
  where the frame of its TimeReference begins (rounded half up, as a punch is) plus the
  TimeReference's offset into that frame, and the take is played sample for sample: what
  comes out is the take's samples, bit for bit.
- *Varispeed* (further from nominal: a 0.1 % pull-up/down, a shuttle): the position is
  fractional, `(s - frame start) * take samples per capture sample`, and the take is
  resampled there with a 4-point cubic (Catmull-Rom) interpolator, which passes through the
  samples themselves at whole positions.

Silence outside the take, while the clock has no fit (LTC lost: after `freewheel_frames` of
dropout the clock gives up), and when the LTC runs at another timecode rate than the take was
recorded at (`problem` says so). Where playback starts inside the take (a relocate into it,
LTC picked up mid-take) a 1 ms raised-cosine fade-in keeps the cut from clicking; playback
that reaches the take's first sample from before it starts on that sample, untouched.

Real-time rules: `render` does bounded numpy work on one period and reads only memory; the
take is swapped in by `load` from another thread (one attribute assignment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stagebox.review.take import ReviewTake
from stagebox.snapshot import ClockFit
from stagebox.timecode import Timecode, frames_at_sample

VARISPEED_TOLERANCE = 5e-4  # relative: 500 ppm; crystals differ by < 200, pull-ups by 1000
FADE_SECONDS = 0.001  # s: fade-in where playback starts inside the take


@dataclass(frozen=True)
class _Placed:
    """A take and where it sits on the timecode (worked out once, at load)."""

    take: ReviewTake
    frame: int  # frame count (since midnight) of the frame its TimeReference is in
    into: int  # samples: TimeReference minus that frame's start (samples since midnight)
    spf: float  # samples (of the take) per frame at nominal speed


class ReviewPlayer:
    """Renders the loaded take for capture samples [heard_at, heard_at + n) on a clock fit."""

    def __init__(
        self,
        sample_rate: int,  # Hz: the capture (and headphone) stream's
        *,
        varispeed_tolerance: float = VARISPEED_TOLERANCE,
        fade_seconds: float = FADE_SECONDS,
    ) -> None:
        self.sample_rate = sample_rate
        self.varispeed_tolerance = varispeed_tolerance
        self._fade = max(1, round(fade_seconds * sample_rate))  # samples
        self._placed: _Placed | None = None
        self._for: _Placed | None = None  # the take the state below belongs to
        self._c0: int | None = None  # capture sample of the take's first sample (locked)
        self._expect: float | None = None  # take position due next if the last sample sounded
        self.problem = ""  # why the take cannot play now ("" when it can)
        self.sounding = False  # the last block held some of the take

    # -- the take (from the review desk's thread) ---------------------------------------------

    @property
    def take(self) -> ReviewTake | None:
        placed = self._placed
        return placed.take if placed else None

    def load(self, take: ReviewTake | None) -> None:
        """Play `take` from the next period on (None: nothing). Safe from any thread."""
        if take is None:
            self._placed = None
            return
        frame = frames_at_sample(take.time_reference, take.sample_rate, take.rate)
        start = Timecode.from_frames(frame, take.rate).samples_since_midnight(take.sample_rate)
        spf = float(take.rate.samples_per_frame(take.sample_rate))
        self._placed = _Placed(take, frame, take.time_reference - start, spf)

    # -- the audio thread ---------------------------------------------------------------------

    def render(self, heard_at: int, n: int, fit: ClockFit | None) -> np.ndarray:
        """The take as heard at capture samples [heard_at, heard_at + n): float32 (n,
        channels of the take), silence where it does not play; (n, 1) of silence with no take."""
        placed = self._placed
        if placed is not self._for:
            self._for, self._c0, self._expect = placed, None, None
        if placed is None:
            self.problem, self.sounding = "", False
            return np.zeros((n, 1), dtype=np.float32)
        out = np.zeros((n, placed.take.samples.shape[1]), dtype=np.float32)
        positions = self._positions(placed, fit, heard_at, n)
        if positions is None:
            self._expect, self.sounding = None, False
            return out
        frames = placed.take.frames
        if isinstance(positions, int):  # locked to the sample: a slice of the take
            lo, hi = max(0, -positions), min(n, frames - positions)
            if lo < hi:
                out[lo:hi] = placed.take.samples[positions + lo : positions + hi]
            first = float(positions + lo)
            last = float(positions + n - 1)
            step = 1.0
        else:
            inside = (positions > -1.0) & (positions < frames)
            idx = np.flatnonzero(inside)
            lo, hi = (int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, 0)
            if lo < hi:
                out[lo:hi] = _cubic(placed.take.samples, positions[lo:hi])
            first = float(positions[lo]) if lo < hi else 0.0
            last = float(positions[-1])
            step = float(positions[1] - positions[0]) if n > 1 else 1.0
        self.sounding = lo < hi
        if lo < hi:
            continued = lo == 0 and self._expect is not None and abs(first - self._expect) < 1.5
            if not continued and first >= 1.0:
                self._fade_in(out, lo, hi)
        self._expect = last + step if self.sounding and hi == n else None
        return out

    def position_at(self, sample: int, fit: ClockFit | None) -> float | None:
        """The take position heard at capture `sample` (None when it cannot play): for the
        status line and tests. Does not disturb the player's state."""
        placed = self._placed
        if placed is None:
            return None
        saved = (self._c0, self.problem)
        pos = self._positions(placed, fit, sample, 1)
        self._c0, self.problem = saved
        if pos is None:
            return None
        return float(pos) if isinstance(pos, int) else float(pos[0])

    def _positions(
        self, placed: _Placed, fit: ClockFit | None, heard_at: int, n: int
    ) -> int | np.ndarray | None:
        """The take position of each output sample: an int (the first's, in steps of one)
        when locked to the sample, a float64 array at varispeed, None when it cannot play."""
        take = placed.take
        if fit is None:
            self.problem = ""
            return None
        if fit.rate != take.rate:
            self.problem = f"take {take.label} is at {take.rate}, the LTC at {fit.rate}"
            return None
        self.problem = ""
        day = take.rate.frames_per_day
        frame = placed.frame + day * round((fit.frame_count - placed.frame) / day)
        start = fit.sample + fit.samples_per_frame * (frame - fit.frame_count)  # capture samples
        nominal = float(fit.rate.samples_per_frame(self.sample_rate))
        speed = nominal / fit.samples_per_frame
        if take.sample_rate == self.sample_rate and abs(speed - 1.0) <= self.varispeed_tolerance:
            # Where the recorder put the take's first sample: on the frame start's whole
            # sample, plus the stamp's offset into the frame. Kept while the fit wobbles by a
            # fraction of a sample around it (a frame start near a half would flip it).
            exact = start + placed.into
            if self._c0 is None or abs(exact - self._c0) >= 0.75:
                self._c0 = math.floor(start + 0.5) + placed.into
            return int(heard_at) - self._c0
        self._c0 = None
        per_sample = placed.spf / fit.samples_per_frame  # take samples per capture sample
        return (np.arange(heard_at, heard_at + n, dtype=np.float64) - start) * per_sample - (
            placed.into
        )

    def _fade_in(self, out: np.ndarray, lo: int, hi: int) -> None:
        k = min(self._fade, hi - lo)
        ramp = 0.5 - 0.5 * np.cos(math.pi * (np.arange(k) + 0.5) / self._fade)
        out[lo : lo + k] *= ramp.astype(np.float32)[:, None]


def _cubic(samples: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Catmull-Rom interpolation of `samples` (frames, channels) at fractional `positions` in
    (-1, frames), silence taken for the samples beyond either end: exact at whole positions."""
    i = np.floor(positions).astype(np.int64)
    t = (positions - i)[:, None]
    last = len(samples) - 1

    if i[0] >= 1 and i[-1] + 2 <= last:  # inside the take (every period but its first/last)
        y0, y1, y2, y3 = samples[i - 1], samples[i], samples[i + 1], samples[i + 2]
    else:

        def at(k: np.ndarray) -> np.ndarray:
            inside = ((k >= 0) & (k <= last))[:, None]
            return np.where(inside, samples[np.clip(k, 0, last)], np.float32(0.0))

        y0, y1, y2, y3 = at(i - 1), at(i), at(i + 1), at(i + 2)
    a = -0.5 * y0 + 1.5 * y1 - 1.5 * y2 + 0.5 * y3
    b = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3
    c = -0.5 * y0 + 0.5 * y2
    return (((a * t + b) * t + c) * t + y1).astype(np.float32)
