"""`stagebox demo`: the whole stage, simulated, on a laptop.

A generated stage feed plays the DAW's part: for each cue of the example cue sheet it loops
the cue's picture with pre-roll and post-roll, three passes, and an actor speaks the line on
the mic channel in every pass. The real service runs on it (the same engine, take writer,
take log, lamp driver and control socket as on the Pi; only the audio, GPIO and display
backends are the simulated ones) and writes the takes. The feed knows where every cue's
TC-in really fell in each pass, so the demo ends with each punch's error in samples.

The actor says the cue's one line on every pass, on time except on some passes (three frames
late on the second pass of every other cue, two on the third of the others). The DAW's guide
track (the line as spoken on time) comes in on a third capture channel, as on a stage with the
guide on a HAT input: the stage records it beside each take (`<take>.guide.wav`), scores
every take's sync against it after the pass, and the demo shows the verdicts.

After the last cue the DAW stops and the crew records room tone (`ROOMTONE_SECONDS` of the
quiet room, no LTC): the feed presses ROOM TONE on its first silent sample, and the demo shows
the room-tone take's length against what was asked, to the sample.

Then a review pass (stagebox.review.demo): the DAW loops the first cue twice more and the
stage, in review mode, plays its last take back; the demo says at what lag it was heard.
"""

from __future__ import annotations

import grp
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stagebox.events import PUNCH_IN, PUNCH_OUT, StageEvent
from stagebox.sim.stagefeed import StageFeed

EXAMPLE_CUES = Path(__file__).resolve().parent / "data" / "example_cues.csv"
GUIDE_CHANNEL = 2  # 0-based capture channel of the DAW's guide track (mic 0, LTC 1)
ROOMTONE_SECONDS = 3  # the demo's room-tone take


class RoomToneTail:
    """A feed, then the quiet room with the DAW stopped (no LTC): `on_tail()` is called as
    the first silent sample is read (the crew pressing ROOM TONE), `seconds` + 1 s of it."""

    def __init__(self, feed: CueByCueFeed, seconds: float, seed: int = 99) -> None:
        self.feed = feed
        self.sample_rate, self.channels = feed.sample_rate, feed.channels
        self.mic_channel, self.ltc_channel = feed.mic_channel, feed.ltc_channel
        self.guide_channel = feed.guide_channel  # the DAW's guide track (silent in the tail)
        self.tail_start = feed.length  # samples: where the room tone is pressed
        n = round((seconds + 1) * feed.sample_rate)
        self._tail = np.zeros((n, feed.channels), dtype=np.float32)
        noise = np.random.default_rng(seed).normal(0.0, 10 ** (-70 / 20), n)  # -70 dBFS RMS
        self._tail[:, feed.mic_channel] = noise.astype(np.float32)
        self.length = feed.length + n  # samples
        self.position = 0
        self.on_tail = lambda: None

    @property
    def remaining(self) -> int:
        return self.length - self.position

    def read(self, n: int) -> np.ndarray:
        if self.position < self.tail_start:
            block = self.feed.read(min(n, self.tail_start - self.position))
            self.position += len(block)
            return block
        if self.position == self.tail_start:
            self.on_tail()
        i = self.position - self.tail_start
        block = self._tail[i : i + n]
        self.position += len(block)
        return block

    def truth(self) -> list[tuple[str, int, int, int]]:
        return self.feed.truth()


class CueByCueFeed:
    """Stage feeds played one after another: the DAW looping one cue, then the next."""

    def __init__(self, feeds: list[StageFeed]) -> None:
        self.feeds = feeds
        self.sample_rate = feeds[0].sample_rate
        self.channels = feeds[0].channels
        self.mic_channel = feeds[0].mic_channel
        self.ltc_channel = feeds[0].ltc_channel
        self.guide_channel = feeds[0].guide_channel
        self.offsets = list(np.cumsum([0] + [f.length for f in feeds[:-1]]))  # samples
        self.length = int(sum(f.length for f in feeds))  # samples
        self.position = 0  # samples: next sample read() returns

    @property
    def remaining(self) -> int:
        return self.length - self.position

    def read(self, n: int) -> np.ndarray:
        out = np.zeros((n, self.channels), dtype=np.float32)
        filled = 0
        while filled < n and self.position < self.length:
            i = int(np.searchsorted(self.offsets, self.position, side="right")) - 1
            feed = self.feeds[i]
            take = min(n - filled, feed.remaining)
            out[filled : filled + take] = feed.read(take)
            filled += take
            self.position += take
        return out[:filled]  # shorter at the end: an empty block means the feed is over

    def truth(self) -> list[tuple[str, int, int, int]]:
        """(cue, pass number from 1, TC-in sample, TC-out sample) for every pass, in order."""
        rows = []
        for offset, feed in zip(self.offsets, self.feeds, strict=True):
            for p in feed.passes:
                for cue in feed.cues:
                    rows.append(
                        (
                            cue.number,
                            p.index + 1,
                            int(offset) + p.tc_in_sample(cue.number),
                            int(offset) + p.tc_out_sample(cue.number),
                        )
                    )
        return rows


@dataclass
class DemoResult:
    takes: list[dict]  # cue, take, file, kind, in_error, out_error (samples), frames
    folder: Path
    seconds: float  # seconds of stage audio simulated
    phones: dict = field(default_factory=dict)  # the headphone mix at the end (stagebox.phones)
    review: object = None  # stagebox.review.demo.ReviewDemo: the first cue's take played back


def actor_lateness(cue_index: int, rate) -> tuple[float, ...]:
    """Seconds the simulated actor is late on each pass of a cue: three frames on pass 2 of
    every other cue, two frames on pass 3 of the rest, on time otherwise."""
    frame = 1.0 / float(rate.fps)
    return (0.0, 3 * frame, 0.0) if cue_index % 2 == 0 else (0.0, 0.0, 2 * frame)


def build_feed(cues, passes: int = 3, sample_rate: int = 48000) -> CueByCueFeed:
    feeds = [
        StageFeed(
            [cue],
            sample_rate=sample_rate,
            passes=passes,
            preroll=4.0,
            postroll=1.5,
            lead_in=0.5,
            tail=0.5,
            seed=i,
            same_line=True,
            late=actor_lateness(i, cue.tc_in.rate),
            channels=3,
            guide_channel=GUIDE_CHANNEL,
        )
        for i, cue in enumerate(cues)
    ]
    return CueByCueFeed(feeds)


def _logged(folder: Path, cue: str, take: int):
    """The take as the stage logged it (None when it did not)."""
    from stagebox.takes.log import TakeLog, TakeLogError

    with TakeLog(folder) as log:
        try:
            return log.get(cue, take)
        except (TakeLogError, KeyError):
            return None


def _sync_of(folder: Path, cue: str, take: int) -> str:
    """The sync verdict the stage logged for a take ("" when none was)."""
    record = _logged(folder, cue, take)
    return record.sync if record is not None else ""


def run_demo(
    out: Path,
    *,
    cue_sheet: Path = EXAMPLE_CUES,
    passes: int = 3,
    realtime: bool = False,
    display: str | None = None,
) -> DemoResult:
    from stagebox.config import config_from_dict
    from stagebox.cues import load_cue_sheet
    from stagebox.service import StageService

    sheet = load_cue_sheet(cue_sheet)
    feed = RoomToneTail(build_feed(list(sheet), passes), ROOMTONE_SECONDS)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="stagebox-demo-run-"))  # the control socket
    overrides = {
        "audio.backend": "sim",
        "audio.sim_realtime": realtime,
        "audio.capture_channels": feed.channels,
        "audio.ltc_channel": feed.ltc_channel + 1,
        "audio.mic_channels": [feed.mic_channel + 1],
        "stage.project": "stagebox demo",
        "stage.mode": "record",
        "stage.cue_sheet": str(cue_sheet),
        "takes.folder": str(out),
        "takes.disk_reserve_mb": 1,
        "lights.backend": "sim",
        "buttons.enabled": False,
        "display.enabled": display is not None,
        "control.socket": str(run_dir / "control.sock"),
        "control.socket_group": grp.getgrgid(os.getgid()).gr_name,
    }
    if display is not None:
        overrides["display.backend"] = display
        overrides["display.show_sync"] = True  # the demo shows each take's score on screen
    # The live guide channel, kept beside each take (`stagebox sync TAKE.wav` reads it).
    overrides["audio.guide_channel"] = feed.guide_channel + 1
    overrides["sync.guide_file"] = True
    cfg = config_from_dict({}, overrides=overrides)
    service = StageService(cfg, feed=feed, stop_at_end=True)
    feed.on_tail = lambda: service.press_local("roomtone", seconds=ROOMTONE_SECONDS)
    events: list[StageEvent] = []
    service.add_listener(lambda e: events.append(e) if e.event in (PUNCH_IN, PUNCH_OUT) else None)
    status = service.run()
    if status != 0:
        raise RuntimeError("the simulated stage did not start (see the log above)")
    truth = {(cue, n): (tin, tout) for cue, n, tin, tout in feed.truth()}
    seen: dict[str, int] = {}
    takes = []
    ins = {(e.cue, e.take): e for e in events if e.event == PUNCH_IN}
    for e in events:
        if e.event != PUNCH_OUT:
            continue
        cue, take = e.cue, e.take
        start = ins[(cue, take)].sample
        kind = ins[(cue, take)].take_kind or "line"
        row = {"cue": cue, "take": take, "file": e.file, "kind": kind, "frames": e.frames or 0}
        if kind == "roomtone":  # its truth: the length asked for, from the sample pressed
            asked = ROOMTONE_SECONDS * feed.sample_rate
            flags = getattr(_logged(out, cue, take), "flags", ())
            takes.append({**row, "in_error": None, "out_error": row["frames"] - asked,
                          "note": "; ".join(flags), "sync": ""})  # fmt: skip
            continue
        seen[cue] = seen.get(cue, 0) + 1
        tin, tout = truth.get((cue, seen[cue]), (None, None))
        takes.append(
            {
                **row,
                "in_error": None if tin is None else start - tin,
                "out_error": None if tout is None else e.sample - tout,
                "note": e.note,
                "sync": _sync_of(out, cue, take),
            }
        )
    phones = service.engine.phones.state()  # what the actor heard: each source's highest peak
    # Review (issue 14): the DAW loops the first cue twice more; its last take plays back.
    from stagebox.review.demo import review_pass

    looped = build_feed(list(sheet)[:1], passes=2).feeds[0]
    reviewed = review_pass({**overrides, "display.enabled": False}, looped, out)
    return DemoResult(takes, out, feed.length / feed.sample_rate, phones, reviewed)
