"""The engine: one audio period in, decisions and headphone audio out, all in sample time.

Per period the engine decodes the LTC channel, feeds the timecode clock, pushes the microphone
channels into the punch recorder's ring buffer, lets the stage decide, and carries out what it
decided: takes opened and closed (through the take writer thread: the engine never touches the
disk), beeps mixed into the headphone block, lamp events handed to the lamp driver, events to
whoever listens. It is a deterministic function of its input audio: fed from a file it runs as
fast as the CPU allows and produces byte-identical takes to a live run.

Real-time rules for `process`: it does bounded, allocation-light work (numpy blocks of one
period), never blocks on the disk or the display, and calls listeners that must not block.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from stagebox import events as ev
from stagebox.beeps import Beep, BeepPlayer
from stagebox.clock import TimecodeClock
from stagebox.cues.cue import Cue
from stagebox.cues.tags import tag_text
from stagebox.events import StageEvent
from stagebox.lamps import LampPlan, LampPlanner
from stagebox.localtake import (
    LINE,
    ROOMTONE,
    STAMP_LTC,
    kind_flags,
    label_after,
    local_stamp,
)
from stagebox.phones.matrix import PhonesSettings
from stagebox.phones.mixer import PhoneMixer
from stagebox.review.player import ReviewPlayer
from stagebox.snapshot import StageSnapshot
from stagebox.stage import Stage, StageSettings
from stagebox.takes.names import format_take_name
from stagebox.takes.punch import PunchRecorder, TakeSink, TakeStart
from stagebox.timecode import Rate, Timecode

log = logging.getLogger("stagebox.engine")


@dataclass(frozen=True)
class EngineSettings:
    sample_rate: int  # Hz
    ltc_channel: int  # 0-based capture channel carrying LTC
    mic_channels: tuple[int, ...]  # 0-based capture channels recorded into takes
    headphone_channels: tuple[int, ...] = (0, 1)  # 0-based playback channels of the phones mix
    playback_channels: int = 2
    playback_latency: int = 0  # samples from writing a headphone sample to hearing it
    rate: Rate | None = None  # configured timecode rate (None: detect)
    freewheel_frames: int = 4
    take_dropout_seconds: float = 2.0  # LTC dropout bridged inside a take
    lock_frames: int = 1
    stage: StageSettings = field(default_factory=StageSettings)
    standby_light: bool = False  # the stand-by lamp is lit while the stage is in record mode
    # The actor's headphone mix (by default only the beeps are wired: no guide, sidetone or
    # talkback channel; from_config wires what [phones], [sync] and [audio] say).
    phones: PhonesSettings = field(default_factory=PhonesSettings)
    guide_channel: int | None = None  # 0-based capture channel of the DAW's guide (None: none)

    @classmethod
    def from_config(cls, cfg, sample_rate: int | None = None) -> EngineSettings:
        """Engine settings from a `stagebox.config.Config` (channels there count from 1)."""
        from stagebox.beeps import BeepSettings

        st, b = cfg.stage, cfg.beeps
        stage = StageSettings(
            preroll_seconds=st.preroll_seconds,
            postroll_seconds=st.postroll_seconds,
            handles_before=st.handle_before_frames,
            handles_after=st.handle_after_frames,
            record_offset=st.record_offset_samples,
            record_light=st.record_light,
            cue_light=st.cue_light,
            streamer_seconds=cfg.display.streamer_seconds,
            follow_timecode=st.follow_timecode,
            beeps=BeepSettings(
                enabled=b.enabled,
                count=b.count,
                spacing_seconds=b.spacing_seconds,
                frequency_hz=b.frequency_hz,
                length_frames=b.length_frames,
                level_dbfs=b.level_dbfs,
                beep_at_tc_in=b.beep_at_tc_in,
            ),
        )
        a = cfg.audio
        return cls(
            sample_rate=sample_rate or a.sample_rate,
            ltc_channel=a.ltc_channel - 1,
            mic_channels=tuple(c - 1 for c in a.mic_channels),
            headphone_channels=tuple(c - 1 for c in a.headphone_channels),
            playback_channels=a.playback_channels,
            playback_latency=a.playback_latency_trim,
            rate=cfg.timecode.rate,
            freewheel_frames=cfg.timecode.freewheel_frames,
            take_dropout_seconds=cfg.timecode.take_dropout_seconds,
            standby_light=cfg.lights.standby_light,
            lock_frames=cfg.timecode.lock_frames,
            stage=stage,
            phones=PhonesSettings.from_config(cfg),
            guide_channel=cfg.audio.guide_channel - 1 if cfg.audio.guide_channel else None,
        )


def _label(text: str | None, rate: Rate | None) -> Timecode | None:
    """The stage's punch label on the LTC's rate (None if it has none there: a sheet at
    another rate than the LTC, which the stage reports)."""
    if not text or rate is None:
        return None
    try:
        return Timecode.parse(text, rate)
    except ValueError:
        return None


class TakeNumbers:
    """Take numbering and naming for the stage when no persistent take log is attached."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next_take(self, cue: str) -> int:
        self._last[cue] = self._last.get(cue, 0) + 1
        return self._last[cue]

    def name_for(self, cue: Cue, take: int) -> str:
        return format_take_name(cue=cue.number, take=take, character=cue.character)

    def upcoming(self, cue: str) -> int:
        """The number the next take of `cue` will get."""
        return self._last.get(cue, 0) + 1

    def take_opened(self, record: dict) -> None:
        """Nothing to persist."""

    def take_closed(self, record: dict) -> None:
        """Nothing to persist."""


class Engine:
    """Runs the stage on captured audio, one period at a time."""

    def __init__(
        self,
        settings: EngineSettings,
        *,
        sink: TakeSink,
        cues: Sequence[Cue] = (),
        mode: str = "safe",
        takes=None,  # next_take(cue) -> int, name_for(cue, take) -> str, take_closed(dict)
        listeners: Sequence[Callable[[StageEvent], None]] = (),
        decoder=None,  # an LTCDecoder-like object (tests); default a new LTCDecoder
        guide_sink: TakeSink | None = None,  # where the guide channel goes (guidetrack.py)
    ) -> None:
        self.settings = settings
        sr = settings.sample_rate
        if decoder is None:
            from stagebox.ltc.decoder import LTCDecoder

            decoder = LTCDecoder(sr)
        self.decoder = decoder
        self.clock = TimecodeClock(
            sr, rate=settings.rate, freewheel_frames=settings.freewheel_frames
        )
        self.takes = takes or TakeNumbers()
        self.stage = Stage(
            sr,
            settings.stage,
            cues=cues,
            mode=mode,
            next_take=self.takes.next_take,
            take_name=self.takes.name_for,
        )
        # The longest a punch decision can lag its sample: a frame (at 23.976, the slowest)
        # until the frame after the punch point is decoded, the decoder's look-ahead, and a
        # period of audio on either side. The ring holds that twice over, plus the handles.
        frame = math.ceil(sr * 1001 / 24000)  # samples: the longest frame
        self.holdback = 4 * frame + 8192  # samples
        handles = (settings.stage.handles_before + 2) * frame
        ring = 2 * self.holdback + handles + sr
        self.recorder = PunchRecorder(
            sink, len(settings.mic_channels), ring=ring, holdback=self.holdback
        )
        # The live guide: a second recorder on the guide channel, punched with every take.
        self.guide = None
        if guide_sink is not None and settings.guide_channel is not None:
            from stagebox.takes.guidetrack import GuideTrack

            self.guide = GuideTrack(
                guide_sink, settings.guide_channel, ring=ring, holdback=self.holdback
            )
        self.beeps = BeepPlayer(sr, settings.stage.beeps)
        self.phones = PhoneMixer(sr, settings.phones)  # the actor's headphone mix
        # Sources rendered for the phones mix, by name: render(heard_at, n) -> mono block of
        # n samples heard from heard_at, or None (silence).
        self.phone_sources: dict[str, Callable[[int, int], np.ndarray | None]] = {}
        self.review = ReviewPlayer(sr)  # the take under review (review mode), chasing the LTC
        self.review_status: Callable[[], str] = self._review_text  # what status says of it
        self.phone_sources["review"] = self._review_block
        self.lamps = LampPlanner(settings.standby_light)  # the lamp plan of each period
        self.listeners = list(listeners)
        self.position = 0  # samples: end of the audio processed so far
        self._last_block: np.ndarray | None = None  # the newest capture block (for levels)
        self.xruns = 0
        self._mic = list(settings.mic_channels)
        self._take_info: dict | None = None
        # frames bridged inside a take (counted at 30 fps, the most frames a second)
        self._take_bridge = max(
            settings.freewheel_frames, math.ceil(settings.take_dropout_seconds * 30)
        )

    def apply_stage_settings(self, stage: StageSettings) -> None:
        """New stage settings (a reload): the stage plans with them and the beeps sound
        with them from the next period on. (The recorder's ring keeps its size: it was
        sized with a second to spare for handles.)"""
        self.settings = dataclasses.replace(self.settings, stage=stage)
        self.stage.apply_settings(stage)
        self.beeps.settings = stage.beeps

    # -- the period ---------------------------------------------------------------------------

    def process(
        self, samples: np.ndarray, position: int, lost: int = 0, playback_at: int | None = None
    ) -> np.ndarray:
        """Run one period: `samples` (frames, channels) captured from absolute `position`.

        `lost` is the count of samples an xrun dropped just before this block (already
        accounted for in `position`). `playback_at` is the capture sample at which the
        returned headphone block will be heard (the audio backend knows its playback latency);
        by default the block is aligned with the capture block, as in a replay. The configured
        playback latency trim is added to it, so each beep lands on its sample at the ear.
        Returns (frames, playback_channels).
        """
        n = len(samples)
        end = position + n
        if lost:
            self.xruns += 1
            self._emit(ev.StageWarning(sample=position, detail=f"xrun: {lost} samples lost"))
        frames = self.decoder.decode(samples[:, self.settings.ltc_channel], position)
        # One pass, one take: while a take records, the clock bridges a dropout of up to
        # `take_dropout_seconds` (the take goes on, sample-continuous, and its note says so);
        # outside takes the short bridge keeps lamps and streamers honest when the DAW stops.
        self.clock.freewheel_frames = (
            self._take_bridge if self.recorder.recording else self.settings.freewheel_frames
        )
        clock_events = self.clock.feed(frames, end)
        self.recorder.push(samples[:, self._mic], position)
        if self.guide is not None:
            self.guide.push(samples, position)
        # An explicit rate the LTC does not run at: the stage will not punch (it says why).
        # (The clock keeps its measured rate through the jump every second such LTC makes.)
        configured = self.clock.configured_rate
        measured = self.clock.measured_rate
        blocked = configured is not None and measured not in (None, configured)
        self.stage.record_blocked = self.rate_warning() if blocked else ""
        for event in self.stage.update(self.clock, clock_events, position, end):
            self._carry_out(event)
        self.position = end
        self._last_block = samples  # its levels are worked out only when `status` asks
        heard_at = position if playback_at is None else playback_at
        return self._headphones(samples, heard_at + self.settings.playback_latency)

    def _headphones(self, samples: np.ndarray, heard_at: int) -> np.ndarray:
        """The phones block: the mix (stagebox.phones) of this period's capture (guide,
        sidetone, talkback: no added latency), the beeps and the rendered sources (placed
        for `heard_at`, the capture sample at which the block is heard)."""
        n = len(samples)
        blocks = self.phones.taps(samples)
        if self.beeps.sounds_in(heard_at, n):
            blocks["beeps"] = self.beeps.render(heard_at, n, out=self.phones.scratch(n))
        for name, render in self.phone_sources.items():
            blocks[name] = render(heard_at, n)
        mono = self.phones.mix(blocks, self.stage.mode, n)
        out = np.zeros((n, self.settings.playback_channels), dtype=np.float32)
        for ch in self.settings.headphone_channels:
            out[:, ch] = mono
        return out

    def _review_block(self, heard_at: int, n: int) -> np.ndarray | None:
        """The take under review as heard from `heard_at` (its channels' mean), on its sample
        at the ear; None outside review mode (nothing rendered)."""
        if self.stage.mode != "review":
            return None
        return self.review.render(heard_at, n, self.clock.fit()).mean(axis=1)

    def _review_text(self) -> str:
        """The take under review ("103 take 2"), or why it cannot play (the service's review
        desk replaces this with its own, which also says why no take is loaded)."""
        take = self.review.take
        return self.review.problem or (take.label if take is not None else "")

    def _carry_out(self, event: StageEvent) -> None:
        if event.event == ev.PUNCH_IN:
            self._open_take(event)
        elif event.event == ev.PUNCH_OUT:
            event = self._close_take(event)
        elif event.event == ev.BEEP:
            self.beeps.plan(Beep(event.n, event.sample, event.length))
        elif event.event == ev.PASS_END or (
            event.event in (ev.JUMP, ev.UNLOCK) and self.stage.local is None
        ):  # a wild line's local count-in does not run on the LTC
            self.beeps.cancel_after(event.sample)
        self.lamps.add(event)
        self._emit(event)

    def _open_take(self, event: ev.PunchIn) -> None:
        cue = self.stage.current.cue
        at = event.sample
        # The take's first sample is the sound of the timecode `record_offset` samples earlier
        # (the offset makes up for converter and cable latency): its timestamp is that
        # moment's, so on an exact punch it is TC-in (minus handles) itself.
        sound = at - self.settings.stage.record_offset
        local = self.stage.local  # room tone / wild: stamped with LTC or the time of day
        kind, stamp, details, flags = LINE, STAMP_LTC, tuple(cue.details()), ()
        if local is not None:
            sr = self.settings.sample_rate
            label, time_reference, rate, stamp = local_stamp(self.clock, local, at, sound, sr)
            kind, details = local.kind, local.request.details
            details += (("TAKE_KIND", kind), ("TIMESTAMP", stamp))
            flags = kind_flags(kind, stamp)
        else:
            rate = self.clock.rate
            label = _label(event.label, rate) or self.clock.timecode_at(sound)
            frame_start = self.clock.punch_sample(label)
            # Samples since midnight of the take's first sample (on TC-in it is TC-in's own).
            time_reference = label.samples_since_midnight(self.settings.sample_rate) + (
                sound - frame_start
            )
        takes = self.takes
        start = TakeStart(
            file=event.file,
            cue=cue.number,
            take=event.take,
            first_sample=at,
            time_reference=time_reference,
            note="; ".join((*flags, *event.notes)),
            rate=rate,
            rename=lambda n: (event.take + n, takes.name_for(cue, event.take + n)),
            details=details,
        )
        note = self.recorder.punch_in(start)
        if self.guide is not None and local is None:  # room tone and wild lines have none
            self.guide.punch_in(start, self.recorder.opened)
        self._take_info = {
            "cue": cue.number,
            "take": start.take,
            "file": start.file,
            "tc_in": str(label),
            "rate": rate.name,
            "sample_rate": self.settings.sample_rate,
            "character": cue.character,
            "line": "" if kind == ROOMTONE else cue.dialogue,  # room tone's is the screen's
            "original_line": cue.original,
            "tags": tag_text(cue.tags),
            "first_sample": at,
            "time_reference": time_reference,
            # what the stage noticed, one flag each (kept apart, never joined and re-split)
            "flags": tuple(x for x in (*flags, *event.notes, note) if x),
            "opened": self.recorder.opened,
            "kind": kind,  # line, wild or roomtone
            "stamp": stamp,  # LTC or time of day
        }
        self.takes.take_opened(self._take_info)

    def _close_take(self, event: ev.PunchOut) -> ev.PunchOut:
        """Punch out; the event as emitted carries the take's length (`frames`)."""
        if not self.recorder.recording:
            return event
        info = self._take_info or {}
        flags = tuple(dict.fromkeys((*info.get("flags", ()), *event.notes)))
        length = self.recorder.punch_out(event.sample, "; ".join(flags))
        guide = None
        if self.guide is not None and self.guide.recording:
            guide = self.guide.punch_out(event.sample)
        tc_out = event.label or event.timecode
        if info.get("kind", LINE) != LINE:  # a local take's TC-out: from its own stamp
            rate = Rate.parse(info["rate"])
            tc_out = str(label_after(info["time_reference"], length, info["sample_rate"], rate))
        info.update(
            frames=length,
            tc_out=tc_out,
            flags=flags,
            interrupted=event.interrupted,
            closed=self.recorder.closed,
            guide=guide,  # the guide channel's CapturedGuide, for the sync scorer
        )
        self.takes.take_closed(info)
        self._take_info = None
        return dataclasses.replace(event, frames=length)

    def _emit(self, event: StageEvent) -> None:
        for listener in self.listeners:
            listener(event)

    # -- commands and state -------------------------------------------------------------------

    def close(self, why: str = "recording stopped") -> None:
        """End the pass at the newest captured sample: an open take is closed there (service
        stop, end of a replay, audio gone)."""
        for event in self.stage.stop(self.position, why):
            self._carry_out(event)

    def idle(self) -> None:
        """With no audio to process: carry out what commands decided (mode, cue) now, instead
        of with the next period, which is not coming."""
        for event in self.stage.take_pending():
            self._carry_out(event)

    def rate_warning(self, cue: Cue | None = None) -> str:
        """What the crew must see when the LTC runs at another rate than the cue sheet or the
        configured `timecode.rate` ("" when they agree or nothing is known yet)."""
        ltc = self.clock.measured_rate
        if ltc is None:
            return ""
        configured = self.clock.configured_rate
        if configured is not None and ltc != configured:
            return f"LTC runs at {ltc} but timecode.rate is {configured}: not recording"
        cue = cue or self.stage.cue
        if cue is not None and cue.tc_in.rate != ltc:
            return f"LTC runs at {ltc} but the cue sheet is at {cue.tc_in.rate}"
        return ""

    def take_lamp_plan(self) -> LampPlan:
        """The lamp work decided since the last call, for the lamp driver."""
        return self.lamps.take()

    @property
    def levels(self) -> np.ndarray:
        """Peak level of each capture channel over the newest period, dBFS (-120 for silence)."""
        block = self._last_block
        if block is None or len(block) == 0:
            return np.zeros(0)
        peak = np.maximum(block.max(axis=0), -block.min(axis=0))
        return 20 * np.log10(np.maximum(peak, 1e-6))

    def snapshot(
        self,
        time=None,
        disk_seconds_left: float | None = None,
        message: str = "",
        fault: str = "",
        sync: str = "",
    ) -> StageSnapshot:
        """The stage as of the newest processed sample (`time`: the sample->monotonic fit)."""
        stage = self.stage
        p = stage.current
        cue = p.cue if p else stage.cue
        upcoming = stage.following(cue) if cue is not None else None
        take = p.take if p and p.take else None
        reviewed = self.review.take if stage.mode == "review" else None
        if reviewed is not None and cue is not None and reviewed.cue == cue.number:
            take = reviewed.take  # in review the take shown is the one playing back
        if take is None and cue is not None:
            take = self.takes.upcoming(cue.number)
        return StageSnapshot(
            sample=self.position,
            sample_rate=self.settings.sample_rate,
            mode=stage.mode,
            lock=self.clock.state,
            clock=self.clock.fit(),
            time=time,
            cue=cue,
            next_cue=upcoming,
            take=take,
            recording=self.recorder.recording,
            pass_active=p is not None,
            lights=dict(stage.lights),
            xruns=self.xruns,
            disk_seconds_left=disk_seconds_left,
            message=message,
            fault=fault,
            warning=self.rate_warning(cue),
            review=self.review_status() if stage.mode == "review" else "",
            sync=sync,
            local=stage.local_view,
        )
