"""The stage: modes, the current cue, passes, punches, beeps and lights, decided in sample time.

This is the stage's state machine. It is fed, once per audio period, the timecode clock and
the clock's events, and returns `StageEvent`s placed on the samples where they take effect. It
does no I/O: the engine carries out what it decides (the recorder opens and closes takes, the
beep player sounds the beeps, the lamp driver switches the lamps).

- Modes: *rehearse* (streamers, beeps and cue light; nothing recorded), *record* (every pass
  through the cue's window records a take), *safe* (nothing), *review* (as rehearse: the
  engine plays the selected take back, stagebox.review).
- The current cue is selected by button or CLI, or followed from timecode: the cue whose window
  (TC-in minus pre-roll to TC-out plus post-roll) the LTC is in; frames the clock predicts
  after the DAW stopped (beyond the one being received) select nothing.
- A *pass* starts when LTC runs into the cue's pre-roll (or is picked up inside the window) and
  ends after its post-roll, on a loop wrap, a relocate or when LTC is lost.
- The *punch*: in record mode a take starts on the sample where TC-in's frame begins (minus the
  handles, plus the record offset) and ends where TC-out's frame begins (plus handles and
  offset). A punch is decided once the frame at the punch point has been decoded, a frame after
  it has happened; the recorder's pre-roll ring buffer holds the audio until then.
- Lamps and beeps are planned `lookahead` ahead of the audio, on the clock's predicted samples,
  so the lamp driver and the headphone feed can place them on time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from stagebox import events as ev
from stagebox.beeps import beep_labels
from stagebox.clock import FREEWHEEL, ClockEvent, TimecodeClock
from stagebox.cues.cue import Cue
from stagebox.events import StageEvent
from stagebox.localtake import LocalPasses
from stagebox.passes import CuePlan, Pass, StageSettings
from stagebox.snapshot import MODES, ClockFit, Mode
from stagebox.takes.names import format_take_name
from stagebox.timecode import Timecode

CUE_LIGHT = "cue"
RECORD_LIGHT = "record"


class Stage(LocalPasses):
    """Decides passes, punches, beeps and lights from the timecode clock, in sample time."""

    def __init__(
        self,
        sample_rate: int,
        settings: StageSettings,
        *,
        cues: Sequence[Cue] = (),
        mode: str = "safe",
        next_take: Callable[[str], int] = lambda cue: 1,  # take number for a new take of a cue
        take_name: Callable[[Cue, int], str] = lambda cue, take: format_take_name(
            cue=cue.number, take=take
        ),
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.sample_rate = sample_rate
        self.settings = settings
        self.cues: list[Cue] = []
        self._order: dict[str, int] = {}  # cue number -> its index in self.cues
        self._set_list(cues)
        self.cue: Cue | None = self.cues[0] if self.cues else None
        self.mode = Mode(mode)
        self.next_take = next_take
        self.take_name = take_name
        self.current: Pass | None = None
        self.record_blocked = ""  # why no take may start now (set by the engine), "" if none
        # Changes held until the take closes (a cue sheet, a cue), applied then in order.
        self._deferred: list[Callable[[int], object]] = []
        self.lights: dict[str, bool] = {CUE_LIGHT: False, RECORD_LIGHT: False}
        self._lookahead = round(settings.lookahead_seconds * sample_rate)  # samples
        self._pending: list[StageEvent] = []  # from commands, emitted with the next update
        self._fit: ClockFit | None = None  # the clock's line as of the previous update
        self._ended_at = 0  # samples: where the last pass ended (the next starts no earlier)
        self._plans: dict[str, CuePlan] = {}  # cue number -> plan on the line below
        self._plans_for = -1  # clock generation the plans were made for

    def apply_settings(self, settings: StageSettings) -> None:
        """New settings (a reload): every cue's moments are planned again with them."""
        self.settings = settings
        self._lookahead = round(settings.lookahead_seconds * self.sample_rate)  # samples
        self._plans.clear()

    # -- commands (buttons, control socket) ---------------------------------------------------

    def set_mode(self, mode: str, sample: int) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
        if mode == self.mode:
            return
        # Room tone and wild takes were asked for by name: only safe stops them.
        keeps = self.current is not None and self.current.local is not None and mode != "safe"
        if self.take_open and not keeps:
            self._pending.extend(self._close_take(sample, f"mode changed to {mode}"))
        self.mode = Mode(mode)
        self._pending.append(ev.ModeChange(sample=sample, mode=mode))
        if mode == "safe" and self.current:
            self._pending.extend(self._end_pass(sample, "stage made safe"))

    @property
    def deferred_changes(self) -> int:
        """Cue changes and cue lists waiting for the recording take to close."""
        return len(self._deferred)

    @property
    def take_open(self) -> bool:
        """A take is being recorded (punched in, not yet out)."""
        p = self.current
        return p is not None and p.take is not None and p.punch_out is None

    def set_cues(self, cues: Sequence[Cue], sample: int) -> bool:
        """A new cue list (already validated). The current cue is kept if it still exists.

        Mid-take the new list waits for the take to close (one pass, one take): returns
        False when it was deferred so, True when it applies now."""
        if self.take_open:
            self._deferred.append(lambda at: self.set_cues(cues, at))
            return False
        self._set_list(cues)
        keep = self.find(self.cue.number) if self.cue else None
        self._select(keep or (self.cues[0] if self.cues else None), sample)
        return True

    def _set_list(self, cues: Sequence[Cue]) -> None:
        self.cues = list(cues)
        self._order = {c.number: i for i, c in enumerate(self.cues)}  # numbers are unique

    def find(self, number: str) -> Cue | None:
        """The cue with this number, or None."""
        i = self._order.get(number)
        return None if i is None else self.cues[i]

    def following(self, cue: Cue) -> Cue | None:
        """The cue after `cue` in the sheet (None after the last, or if it is not there)."""
        i = self._order.get(cue.number)
        return self.cues[i + 1] if i is not None and i + 1 < len(self.cues) else None

    def select_cue(self, which: str, sample: int) -> Cue:
        """Make a cue current: a cue number, or "next" / "previous".

        Mid-take the change waits for the take to close (a cue change must never split a
        pass): `take_open` tells the caller it was deferred."""
        if not self.cues:
            raise KeyError("no cue sheet is loaded")
        if which in ("next", "previous"):
            i = self._order.get(self.cue.number, -1) if self.cue else -1
            i = min(i + 1, len(self.cues) - 1) if which == "next" else max(i - 1, 0)
            cue = self.cues[i]
        else:
            cue = self.find(which)
            if cue is None:
                raise KeyError(f"no cue {which!r} in the cue sheet")
        if self.take_open and (cue != self.cue or self._deferred):
            # By number when it applies: a sheet loaded before it may have replaced the cue.
            self._deferred.append(lambda at: self._select(self.find(cue.number) or cue, at))
            return cue
        self._select(cue, sample)
        return cue

    def _apply_deferred(self, sample: int) -> None:
        """The cue changes and cue lists held back while a take recorded, now that it closed,
        in the order they were asked for (each command said it was deferred: none is lost)."""
        while self._deferred and not self.take_open:
            self._deferred.pop(0)(sample)

    def _select(self, cue: Cue | None, sample: int) -> None:
        if cue == self.cue:
            return
        if self.current:
            self._pending.extend(self._end_pass(sample, "cue changed"))
        self.cue = cue
        if cue:
            self._pending.append(ev.CueChange(sample=sample, cue=cue.number))

    def take_pending(self) -> list[StageEvent]:
        """The events commands decided since the last `update` (mode, cue), handed over now.

        `update` emits them with the next period; a caller with no audio to update with (the
        service after its audio stopped) takes them here so they are still carried out.
        """
        p = self.current
        self._apply_deferred(p.punch_out if p is not None and p.punch_out else self._ended_at)
        out, self._pending = self._pending, []
        return out

    def stop(self, sample: int, why: str) -> list[StageEvent]:
        """End the pass now (the service is stopping): closes an open take at `sample`."""
        return self._end_pass(sample, why)

    # -- the period update --------------------------------------------------------------------

    def update(
        self, clock: TimecodeClock, clock_events: list[ClockEvent], start: int, end: int
    ) -> list[StageEvent]:
        """Decide what happens for audio samples [start, end) and just after."""
        self._apply_deferred(start)
        out, self._pending = self._pending, []
        for ce in clock_events:
            out.extend(self._clock_event(ce))
        if self.current is not None and self.current.local is not None:
            out.extend(self._advance_local(clock, start, end))  # room tone / wild: no LTC
        elif clock.locked and self.mode != "safe":
            if self.current is None and self.settings.follow_timecode:
                out.extend(self._follow(clock, end))
            out.extend(self._advance(clock, start, end))
        self._fit = clock.fit()
        return out

    def _clock_event(self, ce: ClockEvent) -> list[StageEvent]:
        tc = str(ce.timecode) if ce.timecode else None
        at = math.floor(ce.sample + 0.5)
        on_ltc = self.current is not None and self.current.local is None  # room tone/wild: not
        if ce.kind == "lock":
            return [ev.Lock(sample=at, timecode=tc, detail=ce.detail)]
        if ce.kind == "jump":
            until = math.floor((ce.until if ce.until is not None else ce.sample) + 0.5)
            out = self._end_pass(until, ce.detail) if on_ltc else []
            return [*out, ev.Jump(sample=at, timecode=tc, detail=ce.detail)]
        if ce.kind in ("freewheel", "resume") and self.take_open and on_ltc:
            p = self.current
            if ce.kind == "freewheel":
                p.dropout_at = at
            elif p.dropout_at is not None:
                seconds = (at - p.dropout_at) / self.sample_rate
                p.note.append(f"LTC dropout {seconds:.2f} s at {tc} bridged")
                p.dropout_at = None
            return []
        if ce.kind == "unlock":
            out = self._end_pass(at, "LTC lost") if on_ltc else []
            return [*out, ev.Unlock(sample=at, timecode=tc, detail=ce.detail)]
        return []

    def _follow(self, clock: TimecodeClock, end: int) -> list[StageEvent]:
        """Make current the cue whose window the LTC is in (the earliest TC-in ahead wins).

        Judged at the block's last sample, but never past the frame being received after the
        last one decoded: when the DAW stops, the clock runs on for a few frames (its grace,
        then freewheel), and frames that never played must not walk the stage into the next
        cue's window (a cue change and a pass of a cue the DAW never played). While LTC runs
        the decoder's look-ahead can hold a change of cue back by one period (its `cue` event
        then falls on the next period boundary); the pass itself still starts on the window's
        first sample (`_advance`), so passes, beeps and takes are where they always were."""
        last, period = clock.last_frame, clock.period
        at = end - 1
        if last is not None and period:
            at = min(at, math.floor(last.end + period) - 1)
        inside = [c for c in self.cues if _contains(self._window(clock, c), at)]
        if not inside:
            return []
        cue = min(inside, key=lambda c: clock.sample_of(c.tc_in))
        if cue != self.cue:
            self.cue = cue
            return [ev.CueChange(sample=end, timecode=self._label(clock, end), cue=cue.number)]
        return []

    def _window(self, clock: TimecodeClock, cue: Cue) -> tuple[int, int]:
        """Samples of the pass window: TC-in minus pre-roll to TC-out plus post-roll."""
        return self._plan(clock, cue).window

    def _plan(self, clock: TimecodeClock, cue: Cue) -> CuePlan:
        """The cue's moments on the clock's line; recomputed only when the line changes."""
        if clock.generation != self._plans_for:
            self._plans.clear()
            self._plans_for = clock.generation
        plan = self._plans.get(cue.number)
        if plan is None:
            plan = self._plans[cue.number] = self._make_plan(clock, cue)
        return plan

    def _make_plan(self, clock: TimecodeClock, cue: Cue) -> CuePlan:
        s = self.settings
        rate = cue.tc_in.rate
        at = clock.punch_sample
        if s.cue_light == "streamer":
            frames = max(1, rate.labels_in(s.streamer_seconds))  # the display's streamer
            light = (at(cue.tc_in - frames), at(cue.tc_in))
        else:
            light = (at(cue.tc_in), at(cue.tc_out))
        return CuePlan(
            # Whole samples on frame starts, rounded as every punch is: a window edge can never
            # move a sample because a frame start came out 1e-7 of a sample off.
            window=(
                at(cue.tc_in - round(s.preroll_seconds * rate.nominal)),
                at(cue.tc_out + round(s.postroll_seconds * rate.nominal)),
            ),
            cue_light=light,
            beeps=tuple((n, label, at(label)) for n, label in beep_labels(cue.tc_in, s.beeps)),
            punch_in=at(cue.tc_in - s.handles_before) + s.record_offset,
            punch_out=at(cue.tc_out + s.handles_after) + s.record_offset,
        )

    def _advance(self, clock: TimecodeClock, start: int, end: int) -> list[StageEvent]:
        out: list[StageEvent] = []
        cue = self.current.cue if self.current else self.cue
        if cue is None:
            return out
        win_start, win_end = self._window(clock, cue)
        run_start = math.floor(clock.run_start + 0.5)
        if self.current is None:
            # Does the LTC run through this cue's window in this period?
            first = max(win_start, run_start, self._ended_at)
            if first < end and end - 1 < win_end:
                self.current = Pass(cue, first)
                out.append(
                    ev.PassStart(
                        sample=first, timecode=self._label(clock, first), cue=self._cue_id()
                    )
                )
            else:
                return out
        p = self.current
        horizon = end + self._lookahead
        plan = self._plan(clock, p.cue)
        out.extend(self._plan_cue_light(clock, p, plan, horizon))
        out.extend(self._plan_beeps(clock, p, plan, start, horizon))
        if self.mode == "record":
            out.extend(self._punch(clock, p, plan, end, horizon))
        if end > win_end:
            out.extend(self._end_pass(win_end, "post-roll ended"))
        return out

    # -- lamps --------------------------------------------------------------------------------

    def _light(self, name: str, state: bool, sample: int, clock: TimecodeClock) -> list[StageEvent]:
        if self.lights[name] == state:
            return []
        self.lights[name] = state
        return [
            ev.Light(sample=sample, timecode=self._label(clock, sample), name=name, state=state)
        ]

    def _plan_cue_light(
        self, clock: TimecodeClock, p: Pass, plan: CuePlan, horizon: int
    ) -> list[StageEvent]:
        on_at, off_at = plan.cue_light
        out = []
        on_at = max(on_at, p.start)
        if "cue on" not in p.light_plan and on_at < off_at and on_at < horizon:
            p.light_plan.add("cue on")
            out.extend(self._light(CUE_LIGHT, True, on_at, clock))
        if "cue on" in p.light_plan and "cue off" not in p.light_plan and off_at < horizon:
            p.light_plan.add("cue off")
            out.extend(self._light(CUE_LIGHT, False, off_at, clock))
        return out

    # -- beeps --------------------------------------------------------------------------------

    def _plan_beeps(
        self, clock: TimecodeClock, p: Pass, plan: CuePlan, start: int, horizon: int
    ) -> list[StageEvent]:
        out = []
        length = round(self.settings.beeps.length_frames * clock.period)
        for number, label, at in plan.beeps:
            if number in p.beeps or number in p.missed_beeps:
                continue
            if at >= horizon:
                continue
            if at < p.start or at + length <= start:
                # LTC arrived too late for this one: say so once, never play it late.
                p.missed_beeps.add(number)
                detail = f"beep {number} at {label} missed: the pass started after it"
                out.append(
                    ev.StageWarning(
                        sample=p.start, timecode=str(label), cue=self._cue_id(), detail=detail
                    )
                )
                continue
            p.beeps.add(number)
            out.append(
                ev.Beep(sample=at, timecode=str(label), cue=self._cue_id(), n=number, length=length)
            )
        return out

    # -- punches ------------------------------------------------------------------------------

    def _punch(
        self, clock: TimecodeClock, p: Pass, plan: CuePlan, end: int, horizon: int
    ) -> list[StageEvent]:
        s = self.settings
        cue = p.cue
        out: list[StageEvent] = []
        in_at, out_at = plan.punch_in, plan.punch_out
        if s.record_light == "pass" and "record on" not in p.light_plan:
            p.light_plan.add("record on")
            out.extend(self._light(RECORD_LIGHT, True, p.start, clock))
        if p.take is None and p.punch_out is None and self.record_blocked:
            if "blocked" not in p.light_plan:  # said once a pass, never recorded silently
                p.light_plan.add("blocked")
                detail = f"no take: {self.record_blocked}"
                out.append(ev.StageWarning(sample=p.start, cue=self._cue_id(), detail=detail))
            return out
        if p.take is None and p.punch_out is None:
            if s.record_light == "punch" and "record on" not in p.light_plan and in_at < horizon:
                p.light_plan.add("record on")
                out.extend(self._light(RECORD_LIGHT, True, max(in_at, p.start), clock))
            if self._reached(clock, in_at, end):
                at = in_at
                label = str(cue.tc_in - s.handles_before)  # the sound of this label is at `at`
                if p.start > in_at:
                    # Picked up late: record from the first locked sample, and say so.
                    at, label = p.start, None
                    late = clock.timecode_at(p.start)
                    p.note.append(f"late pickup: LTC picked up at {late}, after TC-in {cue.tc_in}")
                if at < out_at:
                    p.take = self.next_take(cue.number)
                    p.file = self.take_name(cue, p.take)
                    p.punch_in = at
                    out.append(
                        ev.PunchIn(
                            sample=at,
                            timecode=self._label(clock, at),
                            cue=self._cue_id(),
                            take=p.take,
                            file=p.file,
                            notes=tuple(p.note),
                            label=label,
                        )
                    )
        if p.take is not None and p.punch_out is None:
            if s.record_light == "punch" and "record off" not in p.light_plan and out_at < horizon:
                p.light_plan.add("record off")
                out.extend(self._light(RECORD_LIGHT, False, out_at, clock))
            if self._reached(clock, out_at, end):
                out.extend(self._close_take(out_at, "", str(cue.tc_out + s.handles_after)))
        return out

    @staticmethod
    def _reached(clock: TimecodeClock, at: int, end: int) -> bool:
        """Whether sample `at` is confirmed in the past: a frame starting at or after it has
        been decoded, or (freewheeling) the audio has gone past it."""
        if at >= end:
            return False
        last = clock.last_frame
        if last is not None and last.start >= at - 0.5:
            return True
        return clock.state == FREEWHEEL

    def _close_take(self, at: int, why: str, label: str | None = None) -> list[StageEvent]:
        """The punch-out at `at`: on the cue's TC-out (plus handles) when `label` is given,
        else cut short by `why` (the take is then *interrupted*)."""
        p = self.current
        assert p is not None and p.take is not None
        if why:
            p.note.append(why)
        p.punch_out = at
        out: list[StageEvent] = [
            ev.PunchOut(
                sample=at,
                timecode=label or self._old_label(at),
                cue=self._cue_id(),
                take=p.take,
                file=p.file,
                notes=tuple(p.note),  # what the stage noticed, one flag each
                label=label,
                interrupted=(why or "ended before TC-out") if label is None else "",
            )
        ]
        if self.lights[RECORD_LIGHT] and self.settings.record_light == "punch":
            p.light_plan.add("record off")
            self.lights[RECORD_LIGHT] = False
            out.append(
                ev.Light(sample=at, timecode=self._old_label(at), name=RECORD_LIGHT, state=False)
            )
        return out

    def _end_pass(self, at: int, why: str) -> list[StageEvent]:
        p = self.current
        if p is None:
            return []
        out: list[StageEvent] = []
        if p.take is not None and p.punch_out is None:
            out.extend(self._close_take(at, f"{why} before TC-out" if why else ""))
        for name in (CUE_LIGHT, RECORD_LIGHT):
            if self.lights[name]:
                self.lights[name] = False
                label = self._old_label(at)
                out.append(ev.Light(sample=at, timecode=label, name=name, state=False))
        out.append(
            ev.PassEnd(sample=at, timecode=self._old_label(at), cue=self._cue_id(), reason=why)
        )
        self.current = None
        self._ended_at = at
        return out

    # -- helpers ------------------------------------------------------------------------------

    def _cue_id(self) -> str | None:
        """The number of the cue the events are about: the pass's, else the current one."""
        p = self.current
        cue = p.cue if p else self.cue
        return cue.number if cue else None

    @staticmethod
    def _label(clock: TimecodeClock, sample: int) -> str | None:
        tc: Timecode | None = clock.timecode_at(sample)
        return str(tc) if tc else None

    def _old_label(self, sample: int) -> str | None:
        """The label at `sample` on the line from before this period's jump or unlock."""
        return str(self._fit.timecode_at(sample)) if self._fit else None


def _contains(window: tuple[int, int], sample: int) -> bool:
    return window[0] <= sample < window[1]
