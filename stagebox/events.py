"""Stage events: what the engine decided, and at which sample of the capture stream.

Events are the engine's output to everything else: the take recorder, the lamps, the beeps,
the journal, the control socket and `stagebox replay --events-out`. Each is placed at the
sample where it takes effect (not when it was decided, which for a punch is a frame later).

One frozen dataclass per kind: a listener reads `event.take`, not `event.data["take"]`, and a
misspelt field fails where it is written. `to_json` gives the events file's line (the same
names, in the same order, as before the kinds had classes).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import ClassVar


class EventKind(enum.StrEnum):
    """What an event is; its value is the name written to the events file."""

    LOCK = "lock"  # LTC locked (timecode known from here)
    UNLOCK = "unlock"  # LTC lost (after freewheeling)
    JUMP = "jump"  # loop wrap or relocate
    PASS_START = "pass_start"  # LTC entered the cue's pre-roll
    PASS_END = "pass_end"  # LTC left the cue's post-roll, wrapped, relocated or stopped
    PUNCH_IN = "punch_in"  # a take's first sample
    PUNCH_OUT = "punch_out"  # the sample after a take's last
    BEEP = "beep"  # a beep's first sample
    LIGHT = "light"  # a lamp switched
    CUE = "cue"  # the current cue changed
    MODE = "mode"  # the stage mode changed
    WARNING = "warning"  # something the engineer should know (disk, late beep, xrun)


LOCK = EventKind.LOCK
UNLOCK = EventKind.UNLOCK
JUMP = EventKind.JUMP
PASS_START = EventKind.PASS_START
PASS_END = EventKind.PASS_END
PUNCH_IN = EventKind.PUNCH_IN
PUNCH_OUT = EventKind.PUNCH_OUT
BEEP = EventKind.BEEP
LIGHT = EventKind.LIGHT
CUE = EventKind.CUE
MODE = EventKind.MODE
WARNING = EventKind.WARNING

_OMIT_NONE = {"omit_none": True}  # a field left out of the events file while it is None


def _optional() -> object:
    return field(default=None, metadata=_OMIT_NONE)


@dataclass(frozen=True, kw_only=True)
class StageEvent:
    """One decision of the engine, read-only, so an event handed to several listeners is the
    same event for each. Each kind below adds its own fields."""

    kind: ClassVar[EventKind]
    sample: int  # samples: where it takes effect in the capture stream
    timecode: str | None = None  # the label at that sample, when known

    @property
    def event(self) -> EventKind:
        """The kind (the name the events file and the journal use)."""
        return self.kind

    def details(self) -> dict:
        """The kind's own fields, by name, in declaration order (for the journal and the
        events file); optional fields that are unset are left out."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in ("sample", "timecode"):
                continue
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = value
        return out

    def to_json(self) -> dict:
        """One line of the events file: event, sample, timecode, then the details."""
        return {
            "event": self.kind,
            "sample": self.sample,
            "timecode": self.timecode,
            **self.details(),
        }


@dataclass(frozen=True, kw_only=True)
class ClockChange(StageEvent):
    """What the timecode clock reported (no kind of its own): lock, unlock, jump."""

    detail: str = ""  # the clock's own words, e.g. "loop wrap", "relocate"


@dataclass(frozen=True, kw_only=True)
class Lock(ClockChange):
    kind: ClassVar[EventKind] = LOCK


@dataclass(frozen=True, kw_only=True)
class Unlock(ClockChange):
    kind: ClassVar[EventKind] = UNLOCK


@dataclass(frozen=True, kw_only=True)
class Jump(ClockChange):
    kind: ClassVar[EventKind] = JUMP


@dataclass(frozen=True, kw_only=True)
class PassStart(StageEvent):
    kind: ClassVar[EventKind] = PASS_START
    cue: str | None = None


@dataclass(frozen=True, kw_only=True)
class PassEnd(StageEvent):
    kind: ClassVar[EventKind] = PASS_END
    cue: str | None = None
    reason: str = ""  # "post-roll ended", "loop wrap", "LTC lost", "cue changed" ...


@dataclass(frozen=True, kw_only=True)
class TakeEvent(StageEvent):
    """What a punch-in and a punch-out both say of their take (no kind of its own)."""

    cue: str | None = None
    take: int = 0
    file: str = ""  # the take's file name (no folder)
    notes: tuple[str, ...] = ()  # what the stage noticed, one flag each

    @property
    def note(self) -> str:
        """The flags as one line for people (the events file's `note`)."""
        return "; ".join(self.notes)

    def details(self) -> dict:
        out = {}
        for key, value in super().details().items():
            if key == "notes":
                out["note"] = self.note
            out[key] = value
        return out


@dataclass(frozen=True, kw_only=True)
class PunchIn(TakeEvent):
    kind: ClassVar[EventKind] = PUNCH_IN
    label: str | None = None  # the label whose sound is at `sample` (None: a late pickup)
    take_kind: str | None = _optional()  # a local take's: "roomtone" or "wild" (None: a line)


@dataclass(frozen=True, kw_only=True)
class PunchOut(TakeEvent):
    kind: ClassVar[EventKind] = PUNCH_OUT
    label: str | None = None  # TC-out (plus handles) when the take ran to it, else None
    interrupted: str = ""  # why the take was cut short ("" when it ran to TC-out)
    frames: int | None = _optional()  # samples written (set by the engine on punch-out)


@dataclass(frozen=True, kw_only=True)
class Beep(StageEvent):
    kind: ClassVar[EventKind] = BEEP
    cue: str | None = None
    n: int = 0  # the beep's number, counting down to TC-in
    length: int = 0  # samples


@dataclass(frozen=True, kw_only=True)
class Light(StageEvent):
    kind: ClassVar[EventKind] = LIGHT
    name: str = ""  # the stage's lamp name ("cue", "record")
    state: bool = False


@dataclass(frozen=True, kw_only=True)
class CueChange(StageEvent):
    kind: ClassVar[EventKind] = CUE
    cue: str = ""


@dataclass(frozen=True, kw_only=True)
class ModeChange(StageEvent):
    kind: ClassVar[EventKind] = MODE
    mode: str = ""


@dataclass(frozen=True, kw_only=True)
class StageWarning(StageEvent):
    kind: ClassVar[EventKind] = WARNING
    cue: str | None = _optional()
    detail: str = ""
