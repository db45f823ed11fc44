"""The display process: its loop in-process, and the real spawned process through DisplayLink.

Everything runs on SDL's dummy driver or the png backend. A missing monitor is injected where
it happens on a Pi: `pygame.display.set_mode` raising `pygame.error`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import pickle
import signal
import time

import numpy as np
import pytest

from stagebox.cues.cue import Cue
from stagebox.display.config import DisplayConfig
from stagebox.display.link import DisplayLink
from stagebox.display.process import DisplayLoop
from stagebox.display.style import StreamerStyle
from stagebox.snapshot import ClockFit, StageSnapshot
from stagebox.timecode import RATE_25, Timecode
from stagebox.timemap import TimeFit

CUE = Cue(
    "101",
    Timecode.parse("01:00:10:00", RATE_25),
    Timecode.parse("01:00:13:05", RATE_25),
    character="John",
    dialogue="Mary? Mary, are you in there?",
)
SIZE = (640, 360)


def frozen_snapshot(d: float, take: int = 1) -> StageSnapshot:
    """A snapshot with LTC lost at `d` frames from TC-in: the display shows exactly that."""
    clock = ClockFit(0.0, CUE.tc_in.frame_count, 1920.0, RATE_25)
    return StageSnapshot(
        sample=round(d * 1920),
        sample_rate=48000,
        mode="rehearse",
        lock="lost",
        clock=clock,
        time=TimeFit(0, time.monotonic(), 48000.0),
        cue=CUE,
        take=take,
    )


def wait_for(condition, seconds=20.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def bar_columns(path, colour):
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    try:
        pixels = pg.surfarray.array3d(pg.image.load(str(path)))
    except (pg.error, FileNotFoundError):
        return None
    return np.flatnonzero(np.all(pixels[:, 2] == colour, axis=1)).tolist()


def expected_columns(d, width=SIZE[0], length=50):
    bw = max(2, math.floor(width * 0.0125 + 0.5))
    x = math.floor(min(1.0, (d + length) / length) * (width - bw) + 0.5)
    return list(range(x, x + bw))


# -- the loop, in this process ------------------------------------------------------------------


class Collector:
    def __init__(self):
        self.statuses = []

    def __call__(self, status):
        self.statuses.append(status)

    @property
    def states(self):
        return [s.state for s in self.statuses]


def run_loop(config, stop_after_frames, snapshot=None, clock=time.monotonic):
    report = Collector()
    given = [snapshot]

    def latest():
        return given.pop() if given else None

    loop = DisplayLoop(config, latest, report, lambda: False, clock=clock)
    loop.stopping = lambda: loop.status.frames >= stop_after_frames
    assert loop.run() == 0
    return loop, report


def test_loop_survives_set_mode_failing(monkeypatch, caplog):
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    real = pg.display.set_mode
    calls = {"n": 0}

    def set_mode(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise pg.error("Could not set video mode: no connector")
        return real(*args, **kwargs)

    monkeypatch.setattr(pg.display, "set_mode", set_mode)
    config = DisplayConfig(backend="dummy", size=SIZE, retry_seconds=0.01)
    with caplog.at_level(logging.WARNING, logger="stagebox.display.process"):
        loop, report = run_loop(config, 5, frozen_snapshot(-20))
    assert calls["n"] == 4
    assert report.states[:4] == ["starting", "no-screen", "no-screen", "no-screen"]
    assert "showing" in report.states and report.states[-1] == "stopped"
    final = report.statuses[-1]
    assert final.failures == 3 and final.opens == 1 and final.frames == 5
    assert any("no connector" in r.getMessage() for r in caplog.records)


def test_loop_reopens_after_the_display_is_lost():
    config = DisplayConfig(backend="dummy", size=SIZE, retry_seconds=0.01, sim_lose_after_frames=3)
    loop, report = run_loop(config, 6, frozen_snapshot(-20))
    final = report.statuses[-1]
    assert final.opens == 2 and final.failures == 1
    lost = [s for s in report.statuses if s.state == "no-screen"]
    assert lost and "HDMI cable pulled" in lost[0].message


def test_loop_draws_the_timecode_predicted_for_scan_out(monkeypatch):
    from stagebox.display import renderer

    drawn = []
    real_render = renderer.StreamerRenderer.render

    def render(self, surface, frames, cue, snapshot=None, full=False):
        drawn.append(frames)
        return real_render(self, surface, frames, cue, snapshot, full)

    monkeypatch.setattr(renderer.StreamerRenderer, "render", render)
    now = 1000.0
    clock = ClockFit(48000.0, CUE.tc_in.frame_count, 1920.0, RATE_25)
    snap = StageSnapshot(
        sample=48000,
        sample_rate=48000,
        mode="rehearse",
        lock="locked",
        clock=clock,
        time=TimeFit(48000, now, 48000.0),
        cue=CUE,
    )
    config = DisplayConfig(backend="dummy", size=SIZE, refresh_hz=50.0, latency_ms=30.0)
    run_loop(config, 1, snap, clock=lambda: now)
    # Next vsync 20 ms after now, plus 30 ms trim: 50 ms = 2400 samples = 1.25 frames.
    assert drawn[0] == pytest.approx(CUE.tc_in.frame_count + 1.25)


# -- the spawned process through DisplayLink ----------------------------------------------------


def test_link_starts_shows_and_stops_cleanly():
    link = DisplayLink(DisplayConfig(backend="dummy", size=SIZE))
    link.start()
    try:
        pid = link.pid
        for _ in range(5):
            assert link.publish(frozen_snapshot(-30)) is True
        status = wait_for(
            lambda: (s := link.status()) and s.state == "showing" and s.frames > 3 and s,
            what="the display to show frames",
        )
        assert status.pid == pid and status.backend == "dummy" and status.size == SIZE
    finally:
        process = link._process
        link.stop()
    assert not process.is_alive() and process.exitcode == 0
    assert link.status().state == "stopped"
    assert link.publish(frozen_snapshot(-30)) is False  # stopped: nothing queued


def test_link_survives_missing_monitor_at_start():
    config = DisplayConfig(backend="dummy", size=SIZE, retry_seconds=0.05, sim_fail_opens=2)
    with DisplayLink(config) as link:
        status = wait_for(
            lambda: (s := link.status()) and s.state == "showing" and s,
            what="the screen to come back",
        )
        assert status.failures == 2 and status.opens == 1
        assert link.is_alive()


def test_link_restarts_a_dead_process():
    with DisplayLink(DisplayConfig(backend="dummy", size=SIZE), restart_delay=0.1) as link:
        first = link.pid
        wait_for(lambda: (s := link.status()) and s.state == "showing", what="first start")
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not link.is_alive(), what="the kill")

        def restarted():
            link.publish(frozen_snapshot(-30))
            s = link.status()
            return link.pid != first and s and s.pid == link.pid and s.state == "showing"

        wait_for(restarted, what="the restart")
        assert link.restarts == 1


def test_link_drops_stale_snapshots_and_shows_the_newest(tmp_path):
    out = tmp_path / "screen.png"
    config = DisplayConfig(backend="png", size=SIZE, png_path=str(out), png_interval=0.02)
    colour = StreamerStyle().rehearse_colour
    with DisplayLink(config) as link:
        link.publish(frozen_snapshot(-40))
        wait_for(lambda: bar_columns(out, colour) == expected_columns(-40), what="frame at -40")
        os.kill(link.pid, signal.SIGSTOP)  # the display stalls: nothing is drained
        try:
            # More than the pipe holds: the sender waits, the mailbox keeps the newest.
            results = [link.publish(frozen_snapshot(d)) for d in np.linspace(-39, -11, 400)]
            results.append(link.publish(frozen_snapshot(-10)))
        finally:
            os.kill(link.pid, signal.SIGCONT)
        assert all(results)  # publish never refused (nor waited)
        assert link.dropped > 0
        wait_for(lambda: bar_columns(out, colour) == expected_columns(-10), what="frame at -10")


def test_display_ends_when_the_engine_is_gone():
    import multiprocessing
    import queue

    from stagebox.display.process import display_main

    receive, send = multiprocessing.Pipe(duplex=False)
    send.close()  # the engine's end: gone
    statuses = queue.Queue()
    previous = signal.getsignal(signal.SIGINT)
    try:
        code = display_main(
            DisplayConfig(backend="dummy", size=SIZE), receive, statuses, multiprocessing.Event()
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 0
    last = None
    while not statuses.empty():
        last = statuses.get_nowait()
    assert last.state == "stopped"


def test_snapshots_are_sent_at_the_displays_rate_and_the_newest_always_arrives():
    """The engine publishes every audio period; the sender pickles at most one snapshot a
    display frame, and the last one published is the one the display ends with."""
    import threading as _threading
    import time as _time

    from stagebox.display.link import _Sender
    from stagebox.snapshot import StageSnapshot

    class Pipe:
        def __init__(self) -> None:
            self.items: list = []
            self.lock = _threading.Lock()

        def send(self, item) -> None:
            with self.lock:
                self.items.append(pickle.loads(pickle.dumps(item)))  # as the pipe would

        def close(self) -> None:
            pass

    pipe = Pipe()
    sender = _Sender(pipe, min_interval=1 / 50)
    sender.start()
    t0 = _time.monotonic()
    n = 0
    while _time.monotonic() - t0 < 0.5:  # about 190 publishes a second, as the engine does
        sender.put(StageSnapshot(sample=n * 256, sample_rate=48000))
        n += 1
        _time.sleep(1 / 190)
    _time.sleep(0.1)
    sender.close()
    assert n > 60 and len(pipe.items) <= 0.6 * 50 + 2  # at most a display frame's worth
    seen, current = [], None
    for change in pipe.items:
        current = change.apply(current)
        seen.append(current.sample)
    assert seen[-1] == (n - 1) * 256  # the newest reached the display
    assert seen == sorted(seen)


def test_only_what_changed_crosses_the_pipe():
    """The cue (line, tags, word timing) is pickled once, not every display frame; what the
    display rebuilds from the changes is the engine's snapshot, field for field."""
    from stagebox.cues.cue import Cue
    from stagebox.snapshot import Mode, SnapshotChange, StageSnapshot
    from stagebox.timecode import Rate, Timecode

    r = Rate.parse("25")
    cue = Cue(
        number="101",
        tc_in=Timecode.parse("01:00:10:00", r),
        tc_out=Timecode.parse("01:00:14:00", r),
        character="ANNA",
        dialogue="I never said that, not once, not to anyone in this house. " * 4,
    )
    first = StageSnapshot(sample=0, sample_rate=48000, mode=Mode.RECORD, cue=cue, take=3)
    later = [dataclasses.replace(first, sample=256 * i, xruns=i // 50) for i in range(1, 200)]
    full = SnapshotChange.between(None, first)
    assert full.full and SnapshotChange.between(first, first).changes == {}
    changes = [SnapshotChange.between(a, b) for a, b in zip([first, *later], later, strict=False)]
    assert all("cue" not in c.changes for c in changes)
    assert {k for c in changes for k in c.changes} == {"sample", "xruns"}
    # rebuilt through pickling, as the pipe carries them
    current = pickle.loads(pickle.dumps(full)).apply(None)
    for c in changes:
        current = pickle.loads(pickle.dumps(c)).apply(current)
    assert current == later[-1]
    whole = len(pickle.dumps(later[-1]))
    assert max(len(pickle.dumps(c)) for c in changes) < whole / 3
    # a change before any whole snapshot cannot be applied (a new display waits for one)
    assert changes[0].apply(None) is None
