"""What the stage plans with: its settings, a cue's moments on the clock's line (`CuePlan`)
and one run of the LTC through a cue's window (`Pass`). Plain data; `stage.Stage` decides."""

from __future__ import annotations

from dataclasses import dataclass, field

from stagebox.beeps import BeepSettings
from stagebox.cues.cue import Cue
from stagebox.localtake import LocalPass
from stagebox.timecode import Timecode


@dataclass(frozen=True)
class StageSettings:
    preroll_seconds: float = 5.0  # before TC-in: LTC entering here starts a pass
    postroll_seconds: float = 1.0  # after TC-out: the pass ends here
    handles_before: int = 0  # frames recorded before TC-in
    handles_after: int = 0  # frames recorded after TC-out
    record_offset: int = 0  # samples added to both punch points (converter/cable latency)
    record_light: str = "punch"  # "punch": on while a take is open; "pass": for the whole pass
    cue_light: str = "streamer"  # "streamer": streamer start to TC-in; "line": TC-in to TC-out
    streamer_seconds: float = 2.0  # length of the streamer (the cue light follows it)
    follow_timecode: bool = True  # choose the current cue from the LTC
    lookahead_seconds: float = 0.25  # lamps and beeps are planned this far ahead
    beeps: BeepSettings = field(default_factory=BeepSettings)

    def __post_init__(self) -> None:
        if self.record_light not in ("punch", "pass"):
            raise ValueError(f"record_light must be 'punch' or 'pass', not {self.record_light!r}")
        if self.cue_light not in ("streamer", "line"):
            raise ValueError(f"cue_light must be 'streamer' or 'line', not {self.cue_light!r}")
        if self.preroll_seconds < 0 or self.postroll_seconds < 0:
            raise ValueError("pre-roll and post-roll cannot be negative")
        if self.handles_before < 0 or self.handles_after < 0:
            raise ValueError("handles cannot be negative")


@dataclass(frozen=True)
class CuePlan:
    """Where a cue's moments fall on the clock's current line, in whole samples."""

    window: tuple[int, int]  # samples: pass window, TC-in - pre-roll .. TC-out + post-roll
    cue_light: tuple[int, int]  # on, off
    beeps: tuple[tuple[int, Timecode, int], ...]  # (number, label, sample)
    punch_in: int  # first sample of a take (handles and record offset applied)
    punch_out: int  # the sample after a take's last


@dataclass
class Pass:
    """One run of the LTC through a cue's window."""

    cue: Cue
    start: int  # samples: where the pass began
    take: int | None = None  # take number once punched in
    file: str | None = None
    punch_in: int | None = None  # samples
    punch_out: int | None = None  # samples
    note: list[str] = field(default_factory=list)
    beeps: set[int] = field(default_factory=set)  # beep numbers planned
    missed_beeps: set[int] = field(default_factory=set)
    light_plan: set[str] = field(default_factory=set)  # lamp transitions already planned
    dropout_at: int | None = None  # samples: where a bridged LTC dropout began (mid-take)
    local: LocalPass | None = None  # room tone / wild: planned from a sample, not from LTC
