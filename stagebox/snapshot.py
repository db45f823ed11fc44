"""The stage snapshot: what the engine tells the display, the front panel and the monitor.

The engine publishes one after each audio period. It is plain, picklable data (the display
runs in another process) and carries no timecode as a number that goes stale: it carries the
clock fit (which label is at which sample, and how fast samples run in monotonic time), and
each reader extrapolates to its own moment, the display to the next vsync.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import asdict, dataclass, field

from stagebox.cues.cue import Cue
from stagebox.localtake import LocalView
from stagebox.timecode import Rate, Timecode
from stagebox.timemap import TimeFit


class Mode(enum.StrEnum):
    """The stage's mode (the value is what the CLI, the config and the journal say)."""

    REHEARSE = "rehearse"  # streamers, beeps and cue light; nothing recorded
    RECORD = "record"  # every pass through the cue's window records a take
    SAFE = "safe"  # nothing: lamps dark, buttons ignored
    REVIEW = "review"  # as rehearse, and the selected take plays back chasing the LTC


class Lock(enum.StrEnum):
    """How the timecode clock holds the LTC."""

    LOCKED = "locked"  # frames arrive in sequence
    FREEWHEEL = "freewheel"  # a short dropout bridged by prediction
    LOST = "lost"  # no usable timecode


MODES = tuple(m.value for m in Mode)


@dataclass(frozen=True)
class ClockFit:
    """Timecode as a line in sample time: frame `frame_count` starts at sample `sample`."""

    sample: float  # samples: start of the anchor frame in the capture stream
    frame_count: int  # frames since midnight of the anchor frame's label
    samples_per_frame: float  # measured frame period (varispeed shows here)
    rate: Rate

    def frames_at(self, sample: float) -> float:
        """Fractional frame count at `sample` (may pass midnight: wrap with the rate)."""
        return self.frame_count + (sample - self.sample) / self.samples_per_frame

    def timecode_at(self, sample: float) -> Timecode:
        return Timecode.from_frames(int(self.frames_at(sample) // 1), self.rate)


@dataclass(frozen=True)
class StageSnapshot:
    """Everything a view of the stage needs, as of capture sample `sample`."""

    sample: int  # samples: end of the audio period this snapshot describes
    sample_rate: int  # Hz
    mode: Mode = Mode.SAFE
    lock: Lock = Lock.LOST
    clock: ClockFit | None = None  # None while no timecode is known
    time: TimeFit | None = None  # sample -> monotonic time, None before audio flows
    cue: Cue | None = None  # the current cue
    next_cue: Cue | None = None
    take: int | None = None  # the take being recorded, or the next one to record
    recording: bool = False  # a take is open (between punch in and punch out)
    pass_active: bool = False  # LTC is inside the current cue's pre-roll..post-roll
    lights: dict[str, bool] = field(default_factory=dict)  # lamp name -> on
    xruns: int = 0  # capture overruns since start
    disk_seconds_left: float | None = None  # recording time left on the takes disk
    message: str = ""  # a short line for the engineer (last warning or error)
    # Why takes cannot be written now (disk full, folder gone, writer failed...): shown in
    # red everywhere the crew looks; the record light flashes and record will not arm.
    fault: str = ""
    warning: str = ""  # a standing problem the crew must see (LTC and sheet at other rates)
    review: str = ""  # in review mode: the take under review ("103 take 2"), or why none
    # The newest scored take of the current cue, as the stage shows it after the pass
    # ("T3 IN SYNC 96% +12ms"; "" until one is scored). The panel and the monitor show it;
    # the actor's screen only with `display.show_sync`.
    sync: str = ""
    local: LocalView | None = None  # a room tone or wild take running (no LTC pass)

    def sample_at(
        self, monotonic: float, max_seconds: float = 1.0, not_before: bool = False
    ) -> float:
        """The capture sample at `monotonic` seconds, from the time fit: frozen at the
        snapshot with no fit or LTC lost, and at most `max_seconds` past it (a stalled
        engine freezes a view rather than running it on by guesswork). With `not_before`,
        never before the snapshot (the display may look back: a negative latency trim)."""
        if self.time is None or self.lock == "lost":
            return float(self.sample)
        sample = self.time.to_sample(monotonic)
        if not_before:
            sample = max(sample, float(self.sample))
        return min(sample, self.sample + max_seconds * self.sample_rate)

    def timecode_at(self, sample: float) -> Timecode | None:
        return self.clock.timecode_at(sample) if self.clock else None

    def to_dict(self) -> dict:
        """JSON-ready form for the control socket and `stagebox monitor`."""
        data = asdict(self)
        data["cue"] = self.cue.to_dict() if self.cue else None
        data["next_cue"] = self.next_cue.to_dict() if self.next_cue else None
        if self.clock:
            data["clock"]["rate"] = self.clock.rate.name
            data["timecode"] = str(self.clock.timecode_at(self.sample))
        else:
            data["timecode"] = None
        if self.local is not None:  # what the views show of it, as of this snapshot
            data["local"].update(
                countdown=self.local.countdown(self.sample),
                seconds_left=self.local.seconds_left(self.sample),
                line=self.local.line(self.sample),
            )
        return data


# -- what changed (the display link sends only that) ------------------------------------------

_FIELDS = tuple(f.name for f in dataclasses.fields(StageSnapshot))


@dataclass(frozen=True)
class SnapshotChange:
    """The fields of a snapshot that differ from the one sent before it (all of them for the
    first): the display link pickles this instead of the whole snapshot, so the cue (with its
    line, tags and word timing) crosses the pipe only when it changes."""

    changes: dict
    full: bool = False  # True: `changes` holds every field (a new receiver starts from it)

    @classmethod
    def between(cls, old: StageSnapshot | None, new: StageSnapshot) -> SnapshotChange:
        if old is None:
            return cls({name: getattr(new, name) for name in _FIELDS}, full=True)
        changed = {}
        for name in _FIELDS:
            value = getattr(new, name)
            before = getattr(old, name)
            if value is not before and value != before:
                changed[name] = value
        return cls(changed)

    def apply(self, old: StageSnapshot | None) -> StageSnapshot | None:
        """The snapshot this change makes of `old` (None: a change needs a full one first)."""
        if self.full:
            return StageSnapshot(**self.changes)
        if old is None:
            return None
        return dataclasses.replace(old, **self.changes) if self.changes else old
