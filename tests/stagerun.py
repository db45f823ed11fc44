"""Run the real engine over a simulated stage feed and collect what it did (test helper)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stagebox.cues.cue import Cue
from stagebox.engine import Engine, EngineSettings
from stagebox.events import StageEvent
from stagebox.sim.stagefeed import StageFeed
from stagebox.stage import StageSettings
from stagebox.timecode import Timecode


class ListSink:
    """A take sink that keeps the takes in memory: (TakeStart, audio, note)."""

    def __init__(self) -> None:
        self.takes: list[tuple] = []
        self._open = None

    def open_take(self, take) -> None:
        assert self._open is None, "a take was opened while another was open"
        self._open = (take, [])

    def write(self, block: np.ndarray) -> None:
        self._open[1].append(np.array(block, copy=True))

    def close_take(self, note: str = "") -> None:
        take, blocks = self._open
        audio = np.concatenate(blocks) if blocks else np.zeros((0, 1), np.float32)
        self.takes.append((take, audio, note))
        self._open = None


@dataclass
class Run:
    feed: StageFeed
    audio: np.ndarray  # the whole feed (samples, channels)
    events: list[StageEvent]
    takes: list[tuple]
    playback: np.ndarray
    engine: Engine = field(repr=False)

    def of(self, name: str) -> list[StageEvent]:
        return [e for e in self.events if e.event == name]


def run_feed(
    feed: StageFeed,
    cues,
    *,
    mode: str = "record",
    period: int = 256,
    settings: EngineSettings | None = None,
    takes=None,
) -> Run:
    audio = feed.render_all()
    settings = settings or EngineSettings(
        feed.sample_rate,
        feed.ltc_channel,
        (feed.mic_channel,),
        headphone_channels=(0,),
        playback_channels=1,
    )
    sink = ListSink()
    events: list[StageEvent] = []
    engine = Engine(
        settings, sink=sink, cues=cues, mode=mode, takes=takes, listeners=[events.append]
    )
    phones = []
    for pos in range(0, len(audio), period):
        phones.append(engine.process(audio[pos : pos + period], pos))
    engine.close()
    return Run(feed, audio, events, sink.takes, np.concatenate(phones), engine)


def cue(number, tc_in, tc_out, rate):
    """A cue at `rate` spoken by ANA (the engine tests' cast)."""
    return Cue(number, Timecode.parse(tc_in, rate), Timecode.parse(tc_out, rate), character="ANA")


def settings_for(feed, **stage):
    """Engine settings for a feed: its LTC and mic channels, one headphone channel."""
    return EngineSettings(
        feed.sample_rate,
        feed.ltc_channel,
        (feed.mic_channel,),
        headphone_channels=(0,),
        playback_channels=1,
        stage=StageSettings(**stage),
    )
