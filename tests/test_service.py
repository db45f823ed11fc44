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
import time

import numpy as np
import pytest
from servicerun import NotifyListener, RunningService, StageDir, cue, write_sheet

from stagebox.bwf import marker_path, read_take_metadata
from stagebox.control.protocol import ControlError
from stagebox.takes import TakeLog
from stagebox.wavfile import read_wav

CUE_101 = cue("101", "01:00:10:00", "01:00:11:00")
CUE_102 = cue("102", "01:00:20:00", "01:00:21:00", "MARY")


@pytest.fixture
def stage(tmp_path):
    return StageDir(tmp_path)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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
        with pytest.raises(ControlError, match="mode must be rehearse, record or safe"):
            svc.call("mode", mode="loud")  # the protocol refuses what argparse would stop

        wait_for(lambda: svc.call("takes", cue="101"), 10, "take 1 of cue 101")
        out = svc.cli("takes").stdout
        assert "101_T001.wav" in out

        out = svc.cli("take", "circle", "101", "1").stdout
        assert "circled" in out and "101_T001.wav" in out
        svc.cli("take", "note", "101", "1", "breath before Mary")

        rows = list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))
        first = next(r for r in rows if (r["cue"], r["take"]) == ("101", "1"))
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
    takes = sorted(p.name for p in (tmp_path / "demo").glob("*.wav"))
    assert takes == [f"{n}_T001.wav" for n in range(101, 107)]
