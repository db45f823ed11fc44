"""Local takes: room tone and wild lines, recorded on a pass that does not come from LTC.

A line take's pass is planned from the timecode: the LTC runs into the cue's pre-roll, the
beeps fall on the labels before TC-in, the punch-in on TC-in's frame. Room tone and a wild
line are recorded with the DAW stopped, so the stage plans their pass from a *start sample*
the command chose (the period boundary it was applied on) instead, with the same parts: a
`CuePlan` whose beeps, punch-in and punch-out are whole capture samples, carried out by the
same punch-in/punch-out events, punch recorder, take writer and take log as every take.

- **Room tone** (`stagebox roomtone [--seconds 30] [--scene S]`): the punch-in is the start
  sample itself, the punch-out `seconds` later; no beeps. The take is named for a room-tone
  "cue" of the current cue's reel and scene (`RT-R1-SC4`), whose line on the actor's screen
  is "ROOM TONE, quiet please".
- **Wild line** (`stagebox wild [--cue N] [--seconds S]`): the configured beeps on a local
  count-in: the first `lead` after the start sample, then every `spacing_seconds`, and the
  punch-in where TC-in would be, one spacing after the last beep; it records until the next
  `stagebox wild` (or for `seconds`).

The take is stamped with the locked LTC when there is one (the DAW parked with its timecode
running), else with the time of day; either way the take log, the report and the iXML say
which. This module holds what the stage, the engine and the views need; the stage's own
commands for it are `LocalPasses`, mixed into `stagebox.stage.Stage`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stagebox import events as ev
from stagebox.cues.cue import Cue
from stagebox.events import StageEvent
from stagebox.timecode import Rate, Timecode

if TYPE_CHECKING:  # the beeps import numpy; `stagebox mode` (snapshot -> here) must not
    from stagebox.beeps import BeepSettings

LINE = "line"  # a take of a cue's pass through LTC
WILD = "wild"  # a cue's line recorded with the DAW stopped
ROOMTONE = "roomtone"  # the room's own sound, no line
KINDS = (LINE, WILD, ROOMTONE)

STAMP_LTC = "LTC"
STAMP_TIME_OF_DAY = "time of day"

ROOMTONE_TEXT = "ROOM TONE, quiet please"  # the actor's screen, the monitor, the panel
ROOMTONE_SECONDS = 30  # default length
MAX_SECONDS = 600  # the longest local take asked for by --seconds
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class LocalRequest:
    """A room tone or wild take as the command asked for it (resolved off the audio path)."""

    kind: str  # ROOMTONE or WILD
    cue: Cue  # wild: the cue; room tone: its room-tone cue (`roomtone_cue`)
    seconds: float | None  # length (room tone) or limit (wild); None: until stopped
    day_seconds: float  # seconds since local midnight at the start sample (time-of-day stamp)
    rate: Rate  # the rate a time-of-day stamp is written at (no LTC to measure one)
    details: tuple[tuple[str, str], ...] = ()  # iXML USER facts beyond the kind and stamp


@dataclass(frozen=True)
class LocalView:
    """A local take as the views show it: the actor's screen, the monitor, the panel."""

    kind: str  # ROOMTONE or WILD
    title: str  # ROOMTONE_TEXT or "WILD LINE"
    start: int  # samples: where the command started it
    punch_in: int  # samples: the take's first sample
    punch_out: int | None  # samples: the sample after its last (None: until stopped)
    spacing: int  # samples between count-in beeps (0: none)
    sample_rate: int  # Hz

    def countdown(self, sample: float) -> str:
        """What the big countdown shows at capture `sample`: the beats of the count-in
        ("3", "2", "1"), then the time left ("0:27"), or the time recorded so far when the
        take runs until stopped ("+0:04")."""
        if sample < self.punch_in and self.spacing:
            beats = (self.punch_in - self.start) // self.spacing  # the count-in's beeps
            left = math.ceil((self.punch_in - sample) / self.spacing)
            return str(max(1, min(beats, left)))  # the lead before the first beep shows it too
        if self.punch_out is not None:
            left = max(0, math.ceil((self.punch_out - sample) / self.sample_rate))
            return f"{left // 60}:{left % 60:02d}"
        done = max(0, int((sample - self.punch_in) // self.sample_rate))
        return f"+{done // 60}:{done % 60:02d}"

    def seconds_left(self, sample: float) -> float | None:
        """Seconds until the take ends (None: until stopped)."""
        if self.punch_out is None:
            return None
        return max(0.0, (self.punch_out - sample) / self.sample_rate)

    def short(self, sample: float) -> str:
        """The front panel's 21 characters: "ROOM TONE  0:27", "WILD  3", "WILD  +0:04"."""
        name = "ROOM TONE" if self.kind == ROOMTONE else "WILD"
        return f"{name}  {self.countdown(sample)}"

    def line(self, sample: float) -> str:
        """One line for the monitor and `stagebox status`: "ROOM TONE, quiet please  0:27"."""
        phase = "count-in " if sample < self.punch_in else ""
        return f"{self.title}  {phase}{self.countdown(sample)}"


@dataclass
class LocalPass:
    """The plan of a local pass and what has been carried out of it (on `Pass.local`)."""

    request: LocalRequest
    view: LocalView
    beeps: tuple[tuple[int, int], ...]  # (number, sample)
    beep_length: int  # samples
    done: set[str] = field(default_factory=set)  # "light", "beep N", "in": what was emitted

    @property
    def kind(self) -> str:
        return self.request.kind


def plan_local(
    request: LocalRequest, start: int, sample_rate: int, beeps: BeepSettings, lead: int
) -> LocalPass:
    """Where a local pass's beeps, punch-in and punch-out fall, from `start` (samples).

    A wild line's count-in: the first beep `lead` samples after the start (the headphone
    feed is written ahead of the capture, so a beep planned for "now" would be heard late),
    then one every `spacing_seconds`; the punch-in one spacing after the last beep, where
    TC-in would be; `beep_at_tc_in` adds one on the punch-in. Room tone starts `lead` after
    the start, so the record light, planned that far ahead, lights on its first sample.
    """
    sr = sample_rate
    planned: list[tuple[int, int]] = []
    spacing = 0
    if request.kind == WILD:
        spacing = round(beeps.spacing_seconds * sr)  # samples
        count = beeps.count if beeps.enabled else 0
        first = start + lead
        planned = [(i + 1, first + i * spacing) for i in range(count)]
        punch_in = first + count * spacing if count else start + lead
        if beeps.enabled and beeps.beep_at_tc_in:
            planned.append((count + 1, punch_in))
    else:
        punch_in = start + lead
    punch_out = None if request.seconds is None else punch_in + round(request.seconds * sr)
    frame = sr / float(request.cue.tc_in.rate.fps)  # samples: a frame of the cue's rate
    view = LocalView(
        kind=request.kind,
        title=ROOMTONE_TEXT if request.kind == ROOMTONE else "WILD LINE",
        start=start,
        punch_in=punch_in,
        punch_out=punch_out,
        spacing=spacing,
        sample_rate=sr,
    )
    return LocalPass(request, view, tuple(planned), round(beeps.length_frames * frame))


def roomtone_cue(current: Cue | None, scene: str, rate: Rate) -> Cue:
    """The room-tone "cue" a room-tone take is numbered, named and logged under.

    `RT-R<reel>-SC<scene>` from the current cue's reel and scene (`scene` overrides the
    cue's scene); `RT-<cue number>` when the cue names neither; `RT` with no cue at all. Its
    line is what the actor's screen shows: "ROOM TONE, quiet please".
    """
    reel = current.reel.strip() if current else ""
    scene = scene.strip() or (current.scene.strip() if current else "")
    parts = ["RT"]
    if reel:
        parts.append(f"R{reel}")
    if scene:
        parts.append(f"SC{scene}")
    if len(parts) == 1 and current is not None:
        parts.append(current.number)
    zero = Timecode.from_frames(0, rate)
    return Cue(
        "-".join("_".join(p.split()) for p in parts),
        zero,
        zero,
        dialogue=ROOMTONE_TEXT,
        reel=reel,
        scene=scene,
    )


def roomtone_details(cue: Cue) -> tuple[tuple[str, str], ...]:
    """The iXML USER facts of a room-tone take: the reel and scene it is the tone of."""
    return tuple((k, v) for k, v in (("REEL", cue.reel), ("SCENE", cue.scene)) if v)


def day_samples(day_seconds: float, sample_rate: int) -> int:
    """Samples since midnight of a time of day (seconds), wrapped into one day."""
    return round(day_seconds * sample_rate) % (SECONDS_PER_DAY * sample_rate)


def kind_flags(kind: str, stamp: str) -> tuple[str, ...]:
    """What a local take's note says of itself: its kind and its stamp."""
    what = "room tone" if kind == ROOMTONE else "wild line"
    if stamp == STAMP_LTC:
        return (what, "stamped with LTC")
    return (what, "stamped with the time of day (no LTC)")


class LocalPasses:
    """Mixed into `stagebox.stage.Stage`: room tone and wild passes, started and stopped by
    commands and carried out, period by period, like a pass from LTC."""

    @property
    def local(self) -> LocalPass | None:
        """The local pass now running, or None."""
        p = self.current
        return p.local if p is not None else None

    @property
    def local_view(self) -> LocalView | None:
        local = self.local
        return local.view if local is not None else None

    def start_local(self, request: LocalRequest, sample: int) -> LocalView:
        """Start a room tone or wild pass at `sample` (ValueError, saying why, if it may not).

        The same command again while one runs is the service's to turn into `stop_local`."""
        from stagebox.stage import Pass

        what = "room tone" if request.kind == ROOMTONE else "a wild line"
        if self.mode == "safe":
            raise ValueError(
                f"the stage is safe: {what} is not recorded (stagebox mode record first)"
            )
        local = self.local
        if local is not None:
            if local.kind != request.kind:
                running = "room tone" if local.kind == ROOMTONE else "a wild line"
                again = "roomtone" if local.kind == ROOMTONE else "wild"
                raise ValueError(f"{running} is recording: stagebox {again} stops it first")
            raise ValueError("already running")  # the service stops it instead (stop_local)
        p = self.current
        if p is not None and self.take_open:
            raise ValueError(
                f"take {p.take} of cue {p.cue.number} is recording: {what} waits until it closes"
            )
        if p is not None:
            raise ValueError(
                f"the DAW is rolling through cue {p.cue.number}: stop it first ({what} "
                "records with the DAW stopped, or parked outside a cue)"
            )
        sr = self.sample_rate
        plan = plan_local(request, sample, sr, self.settings.beeps, self._lookahead)
        self.current = Pass(request.cue, sample, local=plan)
        # A local pass's events have no timecode label: the pass does not run on LTC.
        self._pending.append(ev.PassStart(sample=sample, cue=request.cue.number))
        return plan.view

    def stop_local(self, sample: int) -> str:
        """The second press: a running take ends at `sample` (it keeps what it has; a room
        tone's note says it was stopped early); a count-in not yet punched in is cancelled.
        Returns what happened."""
        local = self.local
        p = self.current
        assert local is not None and p is not None
        view = local.view
        if p.take is None:
            when = "during the count-in" if local.kind == WILD else "before it started"
            self._pending.extend(self._end_pass(sample, f"cancelled {when}"))
            return f"cancelled {when}: nothing recorded"
        at = max(sample, view.punch_in)
        seconds = (at - view.punch_in) / self.sample_rate
        if view.punch_out is not None and at < view.punch_out:
            asked = (view.punch_out - view.punch_in) / self.sample_rate
            p.note.append(f"stopped early after {seconds:.2f} s of {asked:g} s")
        self._pending.extend(self._close_take(at, "", ""))
        self._pending.extend(self._end_pass(at, "stopped"))
        return f"stopped after {seconds:.2f} s"

    def _advance_local(self, clock, start: int, end: int) -> list[StageEvent]:
        """Carry out the local pass for audio [start, end): lamps and beeps `lookahead`
        ahead, the punch-in once its sample has been captured, the punch-out likewise."""
        from stagebox.stage import RECORD_LIGHT

        p = self.current
        local = p.local
        view = local.view
        horizon = end + self._lookahead
        out: list[StageEvent] = []
        if "light" not in local.done and view.punch_in < horizon:
            local.done.add("light")
            out.extend(self._light(RECORD_LIGHT, True, view.punch_in, clock))
        for number, at in local.beeps:
            key = f"beep {number}"
            if key in local.done or at >= horizon:
                continue
            local.done.add(key)
            out.append(ev.Beep(sample=at, cue=p.cue.number, n=number, length=local.beep_length))
        if p.take is None and view.punch_in < end:
            p.take = self.next_take(p.cue.number)
            p.file = self.take_name(p.cue, p.take)
            p.punch_in = view.punch_in
            out.append(
                ev.PunchIn(
                    sample=view.punch_in,
                    cue=p.cue.number,
                    take=p.take,
                    file=p.file,
                    take_kind=local.kind,
                )
            )
        if p.take is not None and view.punch_out is not None and view.punch_out <= end:
            out.extend(self._close_take(view.punch_out, "", ""))
            out.extend(self._end_pass(view.punch_out, f"{view.title.split(',')[0].lower()} done"))
        return out


def local_stamp(clock, local: LocalPass, first: int, sound: int, sample_rate: int):
    """How a local take starting at capture sample `first` is stamped: (label of its first
    sample, BWF TimeReference in samples since midnight, rate, STAMP_LTC or
    STAMP_TIME_OF_DAY). With LTC locked, the label of `sound` (the first sample less the
    record offset, as a line take's); else the time of day at the first sample."""
    if clock.locked and clock.rate is not None:
        label = clock.timecode_at(sound)
        if label is not None:
            frame_start = clock.punch_sample(label)
            reference = label.samples_since_midnight(sample_rate) + (sound - frame_start)
            return label, reference, clock.rate, STAMP_LTC
    request = local.request
    reference = day_samples(request.day_seconds, sample_rate) + (first - local.view.start)
    reference %= SECONDS_PER_DAY * sample_rate
    label = Timecode.from_samples(reference, sample_rate, request.rate)
    return label, reference, request.rate, STAMP_TIME_OF_DAY


def label_after(reference: int, frames: int, sample_rate: int, rate: Rate) -> Timecode:
    """The label `frames` samples after a TimeReference: a local take's TC-out."""
    day = SECONDS_PER_DAY * sample_rate
    return Timecode.from_samples((reference + frames) % day, sample_rate, rate)
