"""The timecode clock: which label is at which sample, and whether that can be trusted.

Fed the frames the LTC decoder finds (each with its fractional start sample), the clock keeps
a *run*: frames whose labels count up by one and whose starts follow each other. A least-squares
line through the run's frame starts gives the sample of any label in it to a fraction of a
sample, and its slope is the measured frame period, which tells 24 from 23.976 and 30 from 29.97
(0.1 % apart, far above crystal tolerance) and gives the speed.

States:
- *locked*: the latest frames form a run; timecode is known at every sample.
- *freewheeling*: frames stopped arriving (dropout, noise); the line is extrapolated for up to
  `freewheel_frames` frames, so a short dropout does not end a take.
- *lost*: no timecode.

Jumps: a well-formed frame that arrives on the run's frame grid (or after a gap) but does not
carry the next label starts a new run at once: that is a loop wrap (label went back) or a
relocate, reported on the first frame after the jump, at that frame's start sample. LTC carries
nothing that could tell such a frame from a corrupt one without waiting a frame, and waiting
would make every wrap late; the decoder's parity and BCD checks keep corrupt frames out.
A frame that cannot belong to the stream at all (an impossible label at the run's rate, a
drop-frame flag that differs from the run's, or a start off the frame grid in the middle of a
clean run) is counted as implausible and ignored.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from stagebox.ltc.frame import LTCFrame
from stagebox.snapshot import ClockFit, Lock
from stagebox.timecode import RATES, Rate, Timecode, label_problem

LOCKED = Lock.LOCKED
FREEWHEEL = Lock.FREEWHEEL
LOST = Lock.LOST


@dataclass(frozen=True)
class ClockEvent:
    """Something the clock noticed, at the sample where it happened."""

    kind: str  # "lock", "freewheel", "resume", "unlock", "jump" or "implausible"
    sample: float  # samples: where it happened in the capture stream
    timecode: Timecode | None = None  # the label at that sample, if known
    detail: str = ""  # e.g. "loop wrap 01:00:12:00 -> 01:00:02:00"
    until: float | None = None  # samples: for a jump, where the old timecode ended


@dataclass
class _Run:
    """Consecutive frames: label frame counts k and their start samples."""

    counts: deque = field(default_factory=lambda: deque(maxlen=64))  # frame counts (unwrapped)
    starts: deque = field(default_factory=lambda: deque(maxlen=64))  # samples
    first_start: float = 0.0  # samples: start of the run's first frame
    last: LTCFrame | None = None
    last_count: int = 0  # unwrapped frame count of `last`


class TimecodeClock:
    """Locks to decoded LTC frames and answers "what label is at sample s" and the reverse."""

    def __init__(
        self,
        sample_rate: int,
        *,
        rate: Rate | None = None,  # configured rate: wins over detection
        freewheel_frames: int = 4,  # frames of dropout bridged before the clock is lost
        lock_frames: int = 1,  # consecutive frames needed to lock
        grid_tolerance: float = 0.25,  # frames: how far off the grid a frame may start
    ) -> None:
        if lock_frames < 1:
            raise ValueError("lock_frames must be at least 1")
        self.sample_rate = sample_rate
        self.configured_rate = rate
        self.freewheel_frames = freewheel_frames
        self.lock_frames = lock_frames
        self.grid_tolerance = grid_tolerance
        self.state = LOST
        self.rate: Rate | None = rate
        self.implausible = 0  # frames ignored since start
        self.jumps = 0  # wraps and relocates since start
        self._run = _Run()
        self._period = float(rate.samples_per_frame(sample_rate)) if rate else None
        self._fit: tuple[float, float, int] | None = None  # (a, b, k0): start = a + b*(k-k0)
        # The LTC's own rate, from the newest run of 8+ frames; kept through a jump the clock
        # stays locked across (the period carries over too), forgotten when LTC is lost.
        self._measured: Rate | None = None
        self.generation = 0  # counts changes of the line: answers derived from it may be cached

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, frames: list[LTCFrame], position: int) -> list[ClockEvent]:
        """Take the frames decoded from audio up to sample `position` (exclusive)."""
        events: list[ClockEvent] = []
        for frame in frames:
            if frame.reverse:
                continue  # reverse play carries no usable forward timing for punches
            events.extend(self._take_frame(frame))
        events.extend(self._check_dropout(position))
        return events

    def _take_frame(self, frame: LTCFrame) -> list[ClockEvent]:
        events: list[ClockEvent] = []
        run = self._run
        nominal = self._nominal_for(frame)
        rate = self._rate_guess(frame, nominal)
        if label_problem(frame.hours, frame.minutes, frame.seconds, frame.frames, rate):
            self.implausible += 1
            return [ClockEvent("implausible", frame.start, None, f"impossible label {frame.label}")]
        count = Timecode(frame.hours, frame.minutes, frame.seconds, frame.frames, rate).frame_count

        if run.last is None:
            self._start_run(frame, count, rate)
            return self._maybe_lock(frame, events)

        if run.last.drop_frame != frame.drop_frame and self.state != LOST:
            self.implausible += 1
            return [ClockEvent("implausible", frame.start, None, f"drop-frame flag {frame.label}")]

        period = self._period or frame.period
        expected_start = self._predict_start(run.last_count + 1)
        steps = (frame.start - run.last.start) / period  # frames since the last one
        on_grid = abs(steps - round(steps)) < self.grid_tolerance and round(steps) >= 1
        # Unwrap midnight: choose the count nearest the run's prediction.
        day = rate.frames_per_day
        predicted = run.last_count + max(1, round(steps))
        unwrapped = count + day * round((predicted - count) / day)

        if on_grid and unwrapped == predicted:
            # The run goes on (possibly after a short dropout of round(steps) - 1 frames).
            if self.state == FREEWHEEL:
                events.append(ClockEvent("resume", frame.start, self._tc(unwrapped)))
                self.state = LOCKED
            self._append(frame, unwrapped)
            return self._maybe_lock(frame, events)

        gap = frame.start - run.last.end
        if not on_grid and gap < 0.5 * period and self.state == LOCKED:
            # Starts in the middle of where the run's next frame is: cannot be real LTC.
            self.implausible += 1
            return [ClockEvent("implausible", frame.start, None, f"off-grid frame {frame.label}")]

        # A jump: loop wrap, relocate, or LTC resuming somewhere else after a stop.
        was = self._tc_at(expected_start) if self.state != LOST else None
        kind = "loop wrap" if was is not None and count < was.frame_count else "relocate"
        detail = f"{kind} {was} -> {frame.label}" if was else f"relocate to {frame.label}"
        self.jumps += 1
        # The old timecode ended where the new frame starts if they touch, else where the
        # old run's last frame ended (frames lost at the jump are not guessed at).
        old_end = run.last.end
        until = frame.start if abs(frame.start - old_end) < 0.5 * period else old_end
        self._start_run(frame, count, rate)
        was_locked = self.state != LOST
        events.append(ClockEvent("jump", frame.start, self._tc(count), detail, until))
        if was_locked:
            # One frame of the new run is enough to keep timing: the period carries over.
            self.state = LOCKED
            return events
        return self._maybe_lock(frame, events)

    def _check_dropout(self, position: int) -> list[ClockEvent]:
        run = self._run
        if run.last is None or self.state == LOST or self._period is None:
            return []
        late = (position - run.last.end) / self._period  # frames since the last frame ended
        events = []
        if self.state == LOCKED and late > 2.5:
            # The next frame should have been complete and decoded by now, allowing for the
            # decoder's look-ahead (under a frame) and one audio period.
            self.state = FREEWHEEL
            at = run.last.end + self._period
            events.append(ClockEvent("freewheel", at, self._tc_at(at)))
        if self.state == FREEWHEEL and late > self.freewheel_frames + 1:
            self.state = LOST
            at = run.last.end + self.freewheel_frames * self._period
            events.append(ClockEvent("unlock", at, self._tc_at(at), "LTC lost"))
            self._run = _Run()
            self._fit = None
            self._measured = None
        return events

    # -- runs and the fitted line -------------------------------------------------------------

    def _start_run(self, frame: LTCFrame, count: int, rate: Rate) -> None:
        self._run = _Run(first_start=frame.start)
        self.rate = rate
        self._append(frame, count)

    def _append(self, frame: LTCFrame, count: int) -> None:
        run = self._run
        run.counts.append(count)
        run.starts.append(frame.start)
        run.last = frame
        run.last_count = count
        self._refit(frame)

    def _refit(self, frame: LTCFrame) -> None:
        run = self._run
        n = len(run.counts)
        k0 = run.last_count
        if n >= 3:
            ks = [k - k0 for k in run.counts]
            mk = sum(ks) / n
            ms = sum(run.starts) / n
            skk = sum((k - mk) ** 2 for k in ks)
            b = sum((k - mk) * (s - ms) for k, s in zip(ks, run.starts, strict=True)) / skk
            a = ms - b * mk  # start of frame k0
            self._period = b
        elif n == 2:
            b = run.starts[1] - run.starts[0]
            a = run.starts[1]
            self._period = b
        else:
            # One frame: its own length, or the period of the run before a jump.
            b = self._period = self._period or frame.period
            a = frame.start
        self._fit = (a, b, k0)
        self.generation += 1
        self._update_rate(frame)

    def _predict_start(self, count: int) -> float:
        assert self._fit is not None
        a, b, k0 = self._fit
        return a + b * (count - k0)

    def _maybe_lock(self, frame: LTCFrame, events: list[ClockEvent]) -> list[ClockEvent]:
        if self.state == LOST and len(self._run.counts) >= self.lock_frames:
            self.state = LOCKED
            tc = self._tc(self._run.last_count)
            events.append(ClockEvent("lock", frame.start, tc, f"{self.rate} at {self.speed:.3f}x"))
        return events

    # -- rate ---------------------------------------------------------------------------------

    def _nominal_for(self, frame: LTCFrame) -> int:
        if self.configured_rate:
            return self.configured_rate.nominal
        period = self._period or frame.period
        fps = self.sample_rate / period if period > 0 else 25.0
        # Nearest of 24, 25, 30 by measured speed, but labels can rule some out.
        candidates = [n for n in (24, 25, 30) if frame.frames < n]
        return min(candidates, key=lambda n: abs(math.log(fps / n)))

    def _rate_guess(self, frame: LTCFrame, nominal: int) -> Rate:
        if self.configured_rate:
            return self.configured_rate
        if self.rate and self.rate.nominal == nominal and self.rate.drop_frame == frame.drop_frame:
            return self.rate
        return self._closest_rate(nominal, frame.drop_frame, self._period or frame.period)

    def _closest_rate(self, nominal: int, drop_frame: bool, period: float) -> Rate:
        fps = self.sample_rate / period
        options = [r for r in RATES if r.nominal == nominal and r.drop_frame == drop_frame]
        if not options:
            options = [r for r in RATES if r.nominal == nominal]
        return min(options, key=lambda r: abs(float(r.fps) - fps))

    def _update_rate(self, frame: LTCFrame) -> None:
        if len(self._run.counts) < 8 or self._period is None:
            return
        if self.configured_rate:
            fps = self.sample_rate / self._period
            options = [r for r in RATES if r.drop_frame == frame.drop_frame] or list(RATES)
            self._measured = min(options, key=lambda r: abs(math.log(float(r.fps) / fps)))
            return
        # With 8+ frames the fitted period is good to far better than 0.1 %.
        best = self._closest_rate(self.rate.nominal, frame.drop_frame, self._period)
        if best != self.rate:
            self.rate = best
        self._measured = self.rate

    # -- answers ------------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """Timecode is usable: locked or freewheeling."""
        return self.state in (LOCKED, FREEWHEEL)

    @property
    def measured_rate(self) -> Rate | None:
        """The rate the LTC runs at by its own frame period and drop-frame bit, whatever
        rate is configured (None until 8 frames of a run are in, and again once LTC is
        lost). With a configured rate this is how a mismatch (24 fps LTC on a stage set to
        25) is noticed. It is kept through a jump the clock stays locked across: 24 fps
        labels read at 25 jump at every second (:23 is followed by :00, not :24), and each
        new run must not open a window of 8 frames in which the mismatch is forgotten."""
        return self._measured

    @property
    def period(self) -> float | None:
        """Measured frame period, samples."""
        return self._period

    @property
    def speed(self) -> float:
        """Play speed against the rate's nominal speed (1.0 = real time)."""
        if self._period is None or self.rate is None:
            return 0.0
        return float(self.rate.samples_per_frame(self.sample_rate)) / self._period

    @property
    def last_frame(self) -> LTCFrame | None:
        return self._run.last

    @property
    def run_start(self) -> float | None:
        """Samples: start of the current run's first frame (where timecode became known)."""
        return self._run.first_start if self._run.last else None

    @property
    def last_timecode(self) -> Timecode | None:
        """Label of the newest frame decoded in the current run."""
        return self._tc(self._run.last_count) if self._run.last else None

    def fit(self) -> ClockFit | None:
        """The current line as plain data for the display and the snapshot."""
        if not self.locked or self._fit is None or self.rate is None:
            return None
        a, b, k0 = self._fit
        return ClockFit(sample=a, frame_count=k0, samples_per_frame=b, rate=self.rate)

    def sample_of(self, tc: Timecode) -> float | None:
        """Fractional sample where frame `tc` starts on the current run's line (None if lost).

        The label is placed on the run nearest to it: across midnight, the day is unwrapped.
        """
        if not self.locked or self._fit is None or self.rate is None:
            return None
        count = tc.with_rate(self.rate).frame_count if tc.rate != self.rate else tc.frame_count
        k0 = self._fit[2]
        day = self.rate.frames_per_day
        count += day * round((k0 - count) / day)
        return self._predict_start(count)

    def punch_sample(self, tc: Timecode) -> int | None:
        """The whole sample where frame `tc` begins: its start rounded half up.

        The same rule as `Timecode.samples_since_midnight`, so a take's first sample and its
        BWF TimeReference agree.
        """
        s = self.sample_of(tc)
        return None if s is None else math.floor(s + 0.5)

    def timecode_at(self, sample: float) -> Timecode | None:
        """Label of the frame that contains `sample` (None if lost)."""
        if not self.locked or self._fit is None:
            return None
        return self._tc_at(sample)

    def _tc_at(self, sample: float) -> Timecode | None:
        if self._fit is None or self.rate is None:
            return None
        a, b, k0 = self._fit
        # Sample s is in frame k from the whole sample where k starts (its start rounded).
        count = k0 + math.floor((sample + 0.5 - a) / b)
        return self._tc(count)

    def _tc(self, count: int) -> Timecode:
        assert self.rate is not None
        return Timecode.from_frames(count, self.rate)
