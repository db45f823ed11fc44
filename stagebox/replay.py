"""Replay: the stage engine run over a stage feed from a file, as fast as the CPU allows.

The same `Engine` as the live service, fed one period at a time from a multichannel WAV
(LTC and microphones captured together), writing takes through the same take writer. Only the
pacing differs: the writer is waited for instead of being allowed to overflow, so a replay is
a byte-exact re-run of what a live stage would have recorded.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stagebox.events import PUNCH_IN, PUNCH_OUT, StageEvent

log = logging.getLogger(__name__)


class ReplayError(Exception):
    """A problem with the replay's input (file, channel, cue sheet, config): one line."""


@dataclass
class ReplayResult:
    sample_rate: int  # Hz
    samples: int  # samples replayed
    elapsed: float  # seconds of CPU wall time the replay took
    events: list[StageEvent] = field(default_factory=list)
    takes: list[dict] = field(default_factory=list)  # one per take written, in order


def replay(
    feed: Path,
    *,
    cues: Path,
    out: Path,
    ltc_channel: int | None = None,  # from 1; default from the config
    mic_channels: list[int] | None = None,  # from 1; default from the config
    mode: str = "record",
    events_out: Path | None = None,
    playback_out: Path | None = None,
    config: Path | None = None,
    period: int = 256,  # samples per engine period, as a live run's ALSA period
) -> ReplayResult:
    from stagebox.audio.wavout import write_pcm_wav
    from stagebox.config import ConfigError, config_from_dict, load_config
    from stagebox.cues import CueSheetError, load_cue_sheet
    from stagebox.engine import Engine, EngineSettings
    from stagebox.takes.book import TakeBook
    from stagebox.takes.log import TakeLog
    from stagebox.takes.punch import WriterSink
    from stagebox.takes.writer import TakeWriter
    from stagebox.wavfile import WavError, WavReader

    try:
        cfg = load_config(config) if config else config_from_dict({})
    except ConfigError as exc:
        raise ReplayError(str(exc)) from None
    try:
        reader = WavReader(feed)
    except (WavError, OSError) as exc:
        raise ReplayError(str(exc)) from None
    with reader:
        info = reader.info
        channels = info.channels
        ltc = ltc_channel or cfg.audio.ltc_channel
        mics = mic_channels or list(cfg.audio.mic_channels)
        for what, ch in [("LTC", ltc), *(("mic", m) for m in mics)]:
            if not 1 <= ch <= channels:
                raise ReplayError(f"{feed}: {what} channel {ch} does not exist (1..{channels})")
        if ltc in mics:
            raise ReplayError(f"channel {ltc} cannot be both the LTC and a mic channel")
        if not 16 <= period <= 65536:
            raise ReplayError(f"period {period} samples is outside 16..65536")
        measured = None
        if cfg.timecode.rate is None:
            measured = measure_rate(reader, ltc - 1)
        try:
            sheet = load_cue_sheet(
                cues,
                rate=cfg.timecode.rate,
                fallback_rate=measured,
                fallback_encoding=cfg.stage.cue_sheet_encoding,
                language=cfg.stage.record_language,
            )
        except (CueSheetError, OSError) as exc:
            raise ReplayError(str(exc)) from None
        settings = EngineSettings.from_config(cfg, sample_rate=info.sample_rate)
        settings = dataclasses.replace(
            settings, ltc_channel=ltc - 1, mic_channels=tuple(m - 1 for m in mics)
        )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReplayError(f"{out}: cannot create the takes folder: {exc.strerror}") from None
        takes = TakeBook(TakeLog(out, template=cfg.takes.name_template), project=cfg.stage.project)
        takes.prime(sheet)
        writer = TakeWriter.from_config(cfg.takes).start()
        sink = WriterSink.from_config(
            cfg,
            writer,
            out,
            sample_rate=info.sample_rate,
            mics=tuple(mics),
            backpressure=True,
        )
        # The guide channel, kept beside each take as a live run keeps it (sync.guide_file).
        guide_sink = None
        if cfg.audio.guide_channel and cfg.sync.guide_file:
            from stagebox.takes.guidetrack import GuideFileSink, GuideWriter

            if cfg.audio.guide_channel > channels:
                raise ReplayError(
                    f"{feed}: audio.guide_channel {cfg.audio.guide_channel} does not exist "
                    f"(1..{channels})"
                )
            guide_writer = GuideWriter.from_config(cfg.takes).start()
            guide_sink = GuideFileSink.from_config(
                cfg, guide_writer, sample_rate=info.sample_rate, backpressure=True
            )
        result = ReplayResult(info.sample_rate, 0, 0.0)
        engine = Engine(
            settings,
            sink=sink,
            cues=list(sheet),
            mode=mode,
            takes=takes,
            listeners=[result.events.append],
            guide_sink=guide_sink,
        )
        phones: list[np.ndarray] = []
        t0 = time.perf_counter()
        try:
            position = 0
            for block in reader.blocks(period):
                playback = engine.process(block, position)
                if playback_out:
                    phones.append(playback)
                position += len(block)
            engine.close()
        finally:
            writer.stop()
            if guide_sink is not None:
                try:
                    guide_sink.writer.stop()
                except Exception as exc:  # the takes are written: a guide's failure is not theirs
                    log.warning("guide writer: %s", exc)
            takes.stop()
        result.elapsed = time.perf_counter() - t0
        result.samples = position
    tc_in: dict[tuple, str | None] = {}  # (cue, take) -> the timecode of its punch-in
    for e in result.events:
        if e.event == PUNCH_IN:
            tc_in.setdefault((e.cue, e.take), e.timecode)
    result.takes = [
        {**e.details(), "tc_out": e.timecode, "tc_in": tc_in.get((e.cue, e.take))}
        for e in result.events
        if e.event == PUNCH_OUT
    ]
    if events_out:
        with events_out.open("w") as f:
            for event in result.events:
                f.write(json.dumps(event.to_json()) + "\n")
    if playback_out:
        try:
            write_pcm_wav(
                playback_out, phones, info.sample_rate, settings.playback_channels, bits=24
            )
        except FileExistsError:
            raise ReplayError(f"{playback_out}: exists; not overwriting it") from None
    return result


def measure_rate(reader, channel: int, seconds: float = 20.0):
    """The timecode rate of the LTC in the first `seconds` of a feed (None if none locks).

    Used when neither the config nor the cue sheet names the rate: the frame period measured
    from the LTC tells 23.976 from 24 and 29.97 from 30, the bits tell drop-frame.
    """
    from stagebox.clock import TimecodeClock
    from stagebox.ltc.decoder import LTCDecoder

    sr = reader.info.sample_rate
    decoder, clock = LTCDecoder(sr), TimecodeClock(sr)
    block = 4096
    frames_seen = 0
    for i, samples in enumerate(reader.blocks(block, channels=channel)):
        if i * block > seconds * sr:
            break
        frames = decoder.decode(samples[:, 0], i * block)
        clock.feed(frames, i * block + len(samples))
        frames_seen += len(frames)
        if clock.locked and frames_seen >= 16:
            return clock.rate
    return clock.rate if clock.locked else None
