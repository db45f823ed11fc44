"""Stage events: what the engine decided, and at which sample of the capture stream.

Events are the engine's output to everything else: the take recorder, the lamps, the beeps,
the journal, the control socket and `stagebox replay --events-out`. Each is placed at the
sample where it takes effect (not when it was decided, which for a punch is a frame later).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


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


@dataclass(frozen=True)
class StageEvent:
    """One decision of the engine. Frozen all through: its details are read-only, so an
    event handed to several listeners is the same event for each."""

    event: EventKind  # what it is
    sample: int  # samples: where it takes effect in the capture stream
    timecode: str | None = None  # the label at that sample, when known
    data: Mapping = field(default_factory=dict)  # e.g. cue, take, file, name, state, note

    def __post_init__(self) -> None:
        object.__setattr__(self, "event", EventKind(self.event))
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def to_json(self) -> dict:
        """One line of the events file: event, sample, timecode, then the details."""
        return {"event": self.event, "sample": self.sample, "timecode": self.timecode, **self.data}
