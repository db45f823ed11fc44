"""The running service end to end: `stagebox run` on a simulated stage, driven like a stage.

The subprocess tests start `python -m stagebox run --config ...` on a generated stage feed
(`tests/servicerun.py`) and talk to it with the real CLI and control client, signals and a
stand-in NOTIFY_SOCKET. The truth is the feed's: where each cue's TC-in really fell, and the
mic samples it carried. The in-process tests reach what a subprocess hides: the simulated
GPIO pins (lamps to the sample, buttons pressed by the crew).
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import DATA
from servicerun import (
    NotifyListener,
    RunningService,
    StageDir,
    cue,
    feed_inputs,
    sim_stage,
    wait_for,
    write_sheet,
)

from stagebox.control.protocol import ControlError
from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.disk import marker_path
from stagebox.takes.log import TakeLog
from stagebox.wavfile import read_wav

CUE_101 = cue("101", "01:00:10:00", "01:00:11:00")
CUE_102 = cue("102", "01:00:20:00", "01:00:21:00", "MARY")


@pytest.fixture
def stage(tmp_path):
    return StageDir(tmp_path)


# -- 1. the control protocol, end to end ---------------------------------------------------------


def test_control_commands_drive_the_running_stage(stage):
    stage.write_feed([CUE_101], passes=3, preroll=1.5)
    sheet = write_sheet(stage.root / "reel1.csv", [CUE_101, CUE_102])
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="rehearse")
    with RunningService(stage) as svc:
        svc.wait_ready()
        out = svc.cli("status", "--socket", str(stage.socket)).stdout
        assert "mode       rehearse" in out
        assert str(sheet) in out

        assert svc.cli("mode", "record").stdout.strip() == "mode: record"
        status = json.loads(svc.cli("status", "--json").stdout)
        assert status["mode"] == "record" and status["cue_sheet"] == str(sheet)
        assert status["channel_names"] == ["Mic 1", "LTC"]

        out = svc.cli("cue", "101").stdout
        assert out.startswith("cue 101") and "JOHN" in out
        bad = svc.cli("cue", "999", check=False)
        assert bad.returncode == 2 and "no cue '999'" in bad.stderr
        with pytest.raises(ControlError, match="'mode' must be rehearse, record, safe or review"):
            svc.call("mode", mode="loud")  # the protocol refuses what argparse would stop

        wait_for(lambda: svc.call("takes", cue="101"), 10, "take 1 of cue 101")
        out = svc.cli("takes").stdout
        assert "101_T001.wav" in out

        out = svc.cli("take", "circle", "101", "1").stdout
        assert "circled" in out and "101_T001.wav" in out
        svc.cli("take", "note", "101", "1", "breath before Mary")

        # Circled and noted while it may still be recording: the file gets both as it closes.
        wait_for(
            lambda: svc.call("takes", cue="101")[0]["state"] == "complete",
            10,
            "take 1 of cue 101 complete",
        )
        rows = list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))
        first = next(r for r in rows if (r["cue"], r["take"]) == ("101", "1"))
        assert first["state"] == "complete" and first["reason"] == ""
        assert first["circled"] == "yes" and "breath before Mary" in first["note"]
        meta = read_take_metadata(stage.takes / "101_T001.wav")
        assert meta.circled and "breath before Mary" in meta.note

        broken = stage.root / "broken.csv"
        broken.write_text("# rate: 25\nCue,TC In,TC Out\n201,01:00:05:00,01:00:02:00\n")
        bad = svc.cli("cues", "load", str(broken), check=False)
        assert bad.returncode == 2
        assert "broken.csv" in bad.stdout + bad.stderr and "line 3" in bad.stdout + bad.stderr
        assert "not loaded" in bad.stderr
        listed = svc.call("cues.list")
        assert [c["number"] for c in listed] == ["101", "102"]
        out = svc.cli("cues", "list").stdout
        assert str(sheet) in out and "102" in out

        assert svc.stop() == 0
    assert "Traceback" not in svc.log


def test_spotting_sessions_load_from_the_config_and_over_the_socket(stage):
    """A Pro Tools export as the config's cue_sheet (Mac Roman, with the config's encoding
    key) and another one loaded on the running stage with `cues load`."""
    sessions = DATA / "protools"
    stage.write_feed([CUE_101], passes=1)
    stage.write_config(
        stage__cue_sheet=str(sessions / "charade_macroman.txt"),
        stage__cue_sheet_encoding="mac_roman",
    )

    def checked(path):  # the same file through `stagebox cues check --json`, offline
        done = subprocess.run(
            [sys.executable, "-m", "stagebox", "cues", "check", str(path), "--json"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["cues"]

    with RunningService(stage) as svc:
        svc.wait_ready()
        listed = svc.call("cues.list")
        assert listed == checked(sessions / "charade_macroman.txt")  # the config's cue_sheet
        assert len(listed) == 41
        p108 = next(c for c in listed if c["number"] == "P108")
        assert p108["dialogue"] == "… And close these windows after me."
        assert (p108["tc_in"], p108["tc_out"], p108["character"]) == (
            "01:35:19:16",
            "01:35:21:11",
            "PETER",
        )
        assert p108["tags"]["R"] == "Replace temp"

        out = svc.cli("cues", "load", str(sessions / "robinhood_df.txt")).stdout
        assert out.strip().endswith("85 cues loaded at 29.97df fps (protools, utf-8)")
        assert svc.call("cues.list") == checked(sessions / "robinhood_df.txt")  # cues load
        r106 = next(c for c in svc.call("cues.list") if c["number"] == "R106")
        assert (r106["tc_in"], r106["tc_out"]) == ("01:05:30;15", "01:05:32;01")
        assert svc.stop() == 0
    assert "Traceback" not in svc.log


# -- 2. SIGTERM in the middle of a take ----------------------------------------------------------


def test_sigterm_mid_take_closes_a_valid_take_on_the_feed(stage):
    long_cue = cue("101", "01:00:10:00", "01:00:14:00")
    feed = stage.write_feed([long_cue], passes=1)
    sheet = write_sheet(stage.root / "reel1.csv", [long_cue])
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    sr = feed.sample_rate
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["writer"]["recording"], 10, "recording")
        time.sleep(0.5)
        heard = svc.call("status")["sample"]  # samples processed just before SIGTERM
        svc.signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert svc.proc.wait(5) == 0
        assert time.monotonic() - t0 < 3.0
    path = stage.takes / "101_T001.wav"
    take = read_wav(path)
    assert not marker_path(path).exists()
    assert take.sample_rate == sr and take.channels == 1
    tc_in = feed.passes[0].tc_in_sample("101")
    truth = read_wav(stage.feed_path, channels=[feed.mic_channel], start=tc_in, frames=take.frames)
    assert truth.frames == take.frames
    np.testing.assert_array_equal(take.samples, truth.samples)
    assert take.frames >= heard - tc_in - sr // 2
    assert take.frames < 4 * sr  # cut short: TC-out was never reached
    [record] = TakeLog(stage.takes).takes()
    assert (record.cue, record.take, record.frames) == ("101", 1, take.frames)
    assert "stopped" in record.full_note
    assert read_take_metadata(path).time_reference > 0


# -- 3 and 4. sd_notify: ready, status, watchdog while audio flows, stopping ---------------------


@pytest.fixture(scope="module")
def notified_run(tmp_path_factory):
    """A service with NOTIFY_SOCKET, on a short real-time feed that ends while it runs."""
    stage = StageDir(tmp_path_factory.mktemp("notified"))
    stage.write_feed([CUE_101], passes=1)
    sheet = write_sheet(stage.root / "reel1.csv", [CUE_101])
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    listener = NotifyListener(stage.root / "notify.sock")
    try:
        with RunningService(stage, env=listener.env(500_000)) as svc:
            svc.wait_until(lambda s: not s["audio"] and s["uptime"] > 1, 15, "the feed's end")
            ended = time.monotonic()
            time.sleep(1.5)  # six watchdog periods with no audio
            status = svc.call("status")  # still serving
            stopped = time.monotonic()
            code = svc.stop()
        yield {
            "messages": listener.received(),
            "ended": ended,
            "stopped": stopped,
            "status": status,
            "code": code,
            "log": svc.log,
        }
    finally:
        listener.close()


def test_sd_notify_ready_status_watchdog_and_stopping(notified_run):
    run = notified_run
    lines = [m for _, m in run["messages"]]
    assert lines.count("READY=1") == 1
    assert lines[-1] == "STOPPING=1" and run["code"] == 0
    watchdog = [t for t, m in run["messages"] if m == "WATCHDOG=1"]
    ready_at = next(t for t, m in run["messages"] if m == "READY=1")
    flowing = [t for t in watchdog if ready_at <= t <= run["ended"]]
    assert len(flowing) >= 4, watchdog  # 2.6 s of audio, a ping every 0.25 s
    assert all(b - a < 0.5 for a, b in zip(flowing, flowing[1:], strict=False))
    statuses = [m[len("STATUS=") :] for m in lines if m.startswith("STATUS=")]
    assert any(s.startswith("record 01:00:") and "cue 101" in s for s in statuses), statuses
    assert any(" REC" in s for s in statuses), statuses


def test_watchdog_is_not_fed_once_the_audio_stops(notified_run):
    run = notified_run
    late = [t for t, m in run["messages"] if m == "WATCHDOG=1" and t > run["ended"] + 0.3]
    assert late == []
    assert run["status"]["audio"] is False and run["status"]["message"] == "audio feed ended"
    assert "audio feed ended" in run["log"]


# -- 5. SIGHUP ------------------------------------------------------------------------------------


def test_sighup_reloads_the_config_and_keeps_the_old_one_when_bad(stage):
    stage.write_feed([CUE_101], passes=1)
    first = write_sheet(stage.root / "reel1.csv", [CUE_101, CUE_102])
    stage.write_config(realtime=False, stage__cue_sheet=str(first))
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: not s["audio"] and s["message"], 10, "the feed's end")
        assert [c["number"] for c in svc.call("cues.list")] == ["101", "102"]
        # Commands still work with no audio, and status shows what they changed.
        assert svc.call("mode", mode="record") == {"mode": "record"}
        assert svc.call("cue", which="102")["number"] == "102"
        status = svc.call("status")
        assert (status["mode"], status["cue"]["number"]) == ("record", "102")
        assert status["disk_seconds_left"] > 0  # measured off the audio loop (DiskWatch)

        second = write_sheet(stage.root / "reel2.csv", [cue("201", "02:00:01:00", "02:00:03:00")])
        stage.write_config(
            realtime=False,
            stage__cue_sheet=str(second),
            takes__folder=str(stage.root / "elsewhere"),
        )
        svc.signal(signal.SIGHUP)
        svc.wait_until(lambda s: s["cue_sheet"] == str(second), 5, "the new cue sheet")
        assert [c["number"] for c in svc.call("cues.list")] == ["201"]
        status = svc.call("status")
        assert status["cue"]["number"] == "201"
        # The takes folder is open (take log, writer): a new one needs a restart, and the
        # service says so and keeps using the one it has.
        assert status["takes_folder"] == str(stage.takes)
        assert "[takes] changed: restart the service" in svc.log

        broken = stage.root / "broken.csv"
        broken.write_text("# rate: 25\nCue,TC In,TC Out\n301,01:00:05:00,nope\n")
        stage.write_config(realtime=False, stage__cue_sheet=str(broken))
        svc.signal(signal.SIGHUP)
        wait_for(lambda: "new cue sheet refused" in svc.log, 5, "the refusal")
        assert "broken.csv" in svc.log.split("new cue sheet refused")[1].splitlines()[0]
        assert [c["number"] for c in svc.call("cues.list")] == ["201"]
        assert svc.call("status")["cue_sheet"] == str(second)

        stage.config.write_text("[stage]\npreroll_seconds = -3\n")
        svc.signal(signal.SIGHUP)
        wait_for(lambda: "new config refused" in svc.log, 5, "the refusal")
        assert "preroll_seconds" in svc.log.split("new config refused")[1]
        assert [c["number"] for c in svc.call("cues.list")] == ["201"]
        assert svc.stop() == 0


# -- 8. the demo -------------------------------------------------------------------------------


def test_demo_runs_and_every_punch_is_exact(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stagebox",
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--passes",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all exact" in result.stdout
    # the review pass (issue 14): cue 101's take played back on the sample, twice
    assert "review: cue 101 take 1 (101_T001.wav) played back on 2 passes" in result.stdout
    assert "lag +0, +0 samples, every sample the take's own." in result.stdout
    files = sorted(p.name for p in (tmp_path / "demo").glob("*.wav"))
    # Each take, the DAW's guide channel kept beside it (`audio.guide_channel`), and the room
    # tone recorded after the last cue (reel 1, scene 5: no guide, no LTC).
    assert files == sorted(
        [name for n in range(101, 107) for name in (f"{n}_T001.wav", f"{n}_T001.guide.wav")]
        + ["RT-R1-SC5_T001.wav"]
    )
    assert "RT-R1-SC5_T001.wav  room tone    3.00s  length +0 samples" in result.stdout


# -- 6. lamps in a replayed stage, to the sample -------------------------------------------------


def test_replayed_lamps_match_the_engines_light_events_to_the_sample():
    from stagerun import ListSink

    from stagebox.engine import Engine, EngineSettings
    from stagebox.events import LIGHT, MODE, PASS_END, StageEvent
    from stagebox.gpio.lamps import LampDriver, Lamps
    from stagebox.gpio.pinmap import load_pinmap
    from stagebox.gpio.sim import Backend
    from stagebox.lamps import carry_out
    from stagebox.sim.stagefeed import StageFeed
    from stagebox.stage import StageSettings

    # Three passes, relocating with a gap between them; a mode change in the first.
    feed = StageFeed(
        [CUE_101], passes=3, preroll=1.0, postroll=0.5, wrap="relocate", relocate_gap=0.3
    )
    audio = feed.render_all()
    settings = EngineSettings(
        feed.sample_rate,
        feed.ltc_channel,
        (feed.mic_channel,),
        headphone_channels=(0,),
        playback_channels=1,
        stage=StageSettings(record_light="pass"),
        standby_light=True,
    )
    gpio = Backend()
    driver = LampDriver(Lamps(gpio, load_pinmap()), replay=True).start()
    events: list[StageEvent] = []
    engine = Engine(
        settings,
        sink=ListSink(),
        cues=[CUE_101],
        mode="record",
        listeners=[events.append],
    )
    for pos in range(0, len(audio), 256):
        if pos == 2 * 256 * 100:  # a mode change mid-run reaches the stand-by lamp
            engine.stage.set_mode("rehearse", pos)
        if pos == 2 * 256 * 200:
            engine.stage.set_mode("record", pos)
        engine.process(audio[pos : pos + 256], pos)
        carry_out(driver, engine.take_lamp_plan())
    engine.close()
    carry_out(driver, engine.take_lamp_plan())
    assert len([e for e in events if e.event == PASS_END]) == 3
    for stage_name, pin in (("cue", "cue_light"), ("record", "record_light")):
        lights = [(e.sample, e.state) for e in events if e.event == LIGHT and e.name == stage_name]
        assert len(lights) >= 6, (stage_name, lights)  # on and off in each of three passes
        assert [(s, on) for s, _, on in gpio.lamp_history(pin)] == [(None, False), *lights]
    modes = [(e.sample, e.mode == "record") for e in events if e.event == MODE]
    assert len(modes) == 2
    assert [(s, on) for s, _, on in gpio.lamp_history("standby_light")] == [(None, False), *modes]
    driver.stop()
    assert not any(gpio.lit(name) for name in ("cue_light", "record_light", "standby_light"))


# -- 7. the crew's buttons during a pass ---------------------------------------------------------


def test_buttons_circle_the_take_just_recorded_and_long_rec_stops_recording(tmp_path, monkeypatch):
    import queue

    from stagebox.config import config_from_dict
    from stagebox.events import MODE, PASS_START, PUNCH_IN, PUNCH_OUT
    from stagebox.service import StageService
    from stagebox.sim.stagefeed import StageFeed
    from stagebox.takes.disk import OS_DISK

    sheet = write_sheet(tmp_path / "reel1.csv", [CUE_101, CUE_102])
    feed = StageFeed([CUE_101], passes=3, preroll=1.0, postroll=0.5, lead_in=0.3, tail=0.3)
    cfg = config_from_dict(
        {},
        overrides={
            **feed_inputs(feed),
            "stage.mode": "record",
            "stage.cue_sheet": str(sheet),
            **sim_stage(tmp_path),
            "buttons.enabled": True,
            "buttons.debounce_ms": 5,
            "buttons.long_press_ms": 300,
        },
    )
    # The disk turns slow at the punch-out (each sync 0.3 s), so the take writer is still
    # finishing the take when the crew circles it, about 0.06 s after the punch-out.
    slow_disk = threading.Event()
    sync = OS_DISK.fdatasync
    monkeypatch.setattr(
        OS_DISK, "fdatasync", lambda fd: (slow_disk.is_set() and time.sleep(0.3), sync(fd))
    )
    service = StageService(cfg, feed=feed, stop_at_end=True)
    events = []
    submitted: queue.Queue[str] = queue.Queue()
    failures: list[str] = []

    def crew(event) -> None:
        """On the first punch-out, as the crew would: CIRCLE at once, then hold REC."""
        events.append(event)
        if event.event != PUNCH_OUT or len([e for e in events if e.event == PUNCH_OUT]) > 1:
            return
        send = service.buttons.submit
        service.buttons.submit = lambda command: (send(command), submitted.put(command))
        gpio = service.gpio
        slow_disk.set()
        gpio.press("circle")
        time.sleep(0.05)
        gpio.release("circle")
        try:
            assert submitted.get(timeout=3) == "take circle"
            gpio.press("record")
            time.sleep(0.45)  # held past the 0.3 s long press
            gpio.release("record")
            assert submitted.get(timeout=3) == "mode rehearse"
        except (AssertionError, queue.Empty) as exc:  # the audio thread must not die of it
            failures.append(repr(exc))

    service.add_listener(crew)
    assert service.run() == 0
    assert failures == []
    assert [e.mode for e in events if e.event == MODE] == ["rehearse"]
    assert len([e for e in events if e.event == PASS_START]) == 3
    assert len([e for e in events if e.event == PUNCH_IN]) == 1  # passes 2 and 3 rehearsed
    [record] = TakeLog(tmp_path / "takes").takes()
    assert (record.cue, record.take, record.circled) == ("101", 1, True)
    out = io.StringIO()
    TakeLog(tmp_path / "takes").report_csv(out)
    [row] = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["cue"], row["take"], row["circled"]) == ("101", "1", "yes")
    assert read_take_metadata(tmp_path / "takes" / record.file).circled
    assert [g.command for g in service.buttons.history] == ["take circle", "mode rehearse"]


# -- the control socket at stop ------------------------------------------------------------------


def test_a_stopped_control_server_answers_no_open_connection(tmp_path):
    from stagebox.control.client import ControlClient, NotRunning
    from stagebox.control.server import ControlServer

    calls: list[str] = []

    def dispatch(cmd: str, args: dict) -> object:
        calls.append(cmd)
        return {"cmd": cmd}

    path = str(tmp_path / "control.sock")
    server = ControlServer(path, dispatch, group=None)
    server.start()
    client = ControlClient(path, timeout=5.0).connect()
    assert client.call("status") == {"cmd": "status"}
    idle = ControlClient(path, timeout=5.0).connect()  # connected, nothing asked yet
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 2.0
    for conn in (client, idle):
        with pytest.raises(NotRunning):
            conn.call("mode", mode="record")
        conn.close()
    assert calls == ["status"]
    with pytest.raises(NotRunning):
        ControlClient(path, timeout=1.0).call("status")


# -- the lights test, interrupted ----------------------------------------------------------------


def _idle_service(tmp_path, **settings):
    """An in-process service on a short feed that has ended (it keeps serving), in a thread."""
    from stagebox.config import config_from_dict
    from stagebox.service import StageService
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([CUE_101], passes=1, preroll=0.5, postroll=0.2, lead_in=0.1, tail=0.1)
    overrides = {
        "audio.backend": "sim",
        "audio.sim_realtime": False,
        "stage.mode": "safe",
        **sim_stage(tmp_path),
        **settings,
    }
    service = StageService(config_from_dict({}, overrides=overrides), feed=feed)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run()), daemon=True)
    thread.start()
    wait_for(lambda: service._latest is not None and not service._audio_running, 10, "feed end")
    return service, thread, result


def test_lights_test_stops_when_the_service_stops_and_leaves_the_lamps_dark(tmp_path):
    from stagebox.control.client import ControlClient

    service, thread, result = _idle_service(tmp_path)
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append(ControlClient(str(tmp_path / "control.sock")).call("lights.test"))
        except ControlError as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    wait_for(lambda: service.gpio.lit("cue_light"), 3, "the first lamp of the test")
    t0 = time.monotonic()
    service.stop()
    thread.join(5)
    asker.join(5)
    assert result == [0] and time.monotonic() - t0 < 2.0
    assert isinstance(outcome[0], ControlError)  # not a completed test
    time.sleep(1.2)  # the test's next step would have lit the next lamp by now
    lamps = ("cue_light", "record_light", "standby_light")
    assert not any(service.gpio.lit(name) for name in lamps)


def test_lights_test_gives_way_when_the_stage_leaves_safe_mode(tmp_path):
    from stagebox.control.client import ControlClient

    service, thread, _ = _idle_service(tmp_path, **{"lights.standby_light": True})
    sock = str(tmp_path / "control.sock")
    try:
        outcome: list[object] = []

        def ask() -> None:
            try:
                outcome.append(ControlClient(sock).call("lights.test"))
            except ControlError as exc:
                outcome.append(exc)

        asker = threading.Thread(target=ask)
        asker.start()
        wait_for(lambda: service.gpio.lit("cue_light"), 3, "the first lamp of the test")
        with pytest.raises(ControlError, match="already running"):
            ControlClient(sock).call("lights.test")
        assert ControlClient(sock).call("mode", mode="record") == {"mode": "record"}
        asker.join(3)
        assert "left safe mode" in str(outcome[0])
        # The stage's lamps: stand-by lit in record mode, no pass, so cue and record dark.
        assert service.gpio.lit("standby_light")
        assert not service.gpio.lit("cue_light") and not service.gpio.lit("record_light")
    finally:
        service.stop()
        thread.join(5)


# -- audio that ends mid-take --------------------------------------------------------------------


class _CutFeed:
    """A stage feed whose audio stops dead at sample `cut` (a capture device gone)."""

    def __init__(self, feed, cut: int) -> None:
        self.feed, self.cut = feed, cut
        self.sample_rate, self.channels, self.length = feed.sample_rate, feed.channels, cut

    @property
    def position(self) -> int:
        return self.feed.position

    @property
    def remaining(self) -> int:
        return self.cut - self.feed.position

    def read(self, n: int):
        return self.feed.read(max(0, min(n, self.remaining)))


def test_audio_ending_mid_take_closes_it_and_darkens_the_lamps_at_once(tmp_path):
    from stagebox.config import config_from_dict
    from stagebox.service import StageService
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([CUE_101], passes=1, preroll=1.0, postroll=0.5, lead_in=0.3, tail=0.3)
    tc_in = feed.passes[0].tc_in_sample("101")
    cut = tc_in + feed.sample_rate // 2  # half-way through the line
    sheet = write_sheet(tmp_path / "reel1.csv", [CUE_101])
    overrides = {
        "audio.backend": "sim",
        "audio.sim_realtime": True,  # lamps switch on the wall clock
        "stage.mode": "record",
        "stage.cue_sheet": str(sheet),
        "stage.record_light": "pass",
        **sim_stage(tmp_path),
    }
    service = StageService(config_from_dict({}, overrides=overrides), feed=_CutFeed(feed, cut))
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: service._latest is not None and not service._audio_running, 10, "end")
        wait_for(lambda: not service.gpio.lit("record_light"), 0.5, "the record lamp dark")
        assert not service.gpio.lit("cue_light")
        assert any(on for _, _, on in service.gpio.lamp_history("record_light"))  # it was lit
        service.book.flush()
        status = service.status()
        assert status["recording"] is False and status["message"] == "audio feed ended"
    finally:
        service.stop()
        thread.join(5)
    [record] = TakeLog(tmp_path / "takes").takes()
    assert record.frames == cut - tc_in and "audio feed ended" in record.full_note


def test_buttons_that_cannot_be_set_up_leave_the_service_running(tmp_path, monkeypatch, caplog):
    from stagebox.gpio import sim
    from stagebox.gpio.backend import GPIOError

    claim = sim.Backend.claim_input

    def refuse_circle(self, pin, on_edge):
        if pin.name == "circle":
            raise GPIOError(f"GPIO {pin.bcm} ({pin.name}): cannot watch for presses: busy")
        claim(self, pin, on_edge)

    monkeypatch.setattr(sim.Backend, "claim_input", refuse_circle)
    with caplog.at_level("ERROR", logger="stagebox.gpio"):
        service, thread, result = _idle_service(tmp_path, **{"buttons.enabled": True})
    try:
        assert service.buttons is None
        assert "buttons (sim): GPIO 26 (circle): cannot watch for presses: busy" in caplog.text
        # no button is left half-claimed; the lamps work
        assert not any(p.direction == "in" for p in service.gpio.pins.values())
        service.lamps.set("cue_light", True)
        assert service.gpio.lit("cue_light")
    finally:
        service.stop()
        thread.join(5)
    assert result == [0]


def test_status_names_the_guide_and_talkback_inputs(stage):
    """The meters say what each input carries: the guide and the director's talkback mic are
    named, not left as 'In 3' / 'In 4' beside 'Mic 1' and 'LTC'."""
    stage.write_feed([CUE_101], passes=1, preroll=1.0, channels=4, guide_channel=2)
    stage.write_config(
        audio__capture_channels=4, audio__guide_channel=3, phones__talkback_channel=4
    )
    with RunningService(stage) as svc:
        status = svc.wait_ready()
        assert status["channel_names"] == ["Mic 1", "LTC", "Guide", "Talkback"]
        assert "inputs     Mic 1 " in svc.cli("status").stdout
        assert ", Guide " in svc.cli("status").stdout
        assert svc.stop() == 0
