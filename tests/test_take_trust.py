"""Takes the crew can trust: each finding of the take-trust review, as a test that failed then.

Service tests run the real `stagebox run` in simulation (tests/servicerun.py) and drive it with
the documented commands; the truth is the stage feed's (where each TC-in fell, the mic samples
it carried) and what is on disk, never what the service says about itself.
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
from pathlib import Path

import numpy as np
import pytest
from servicerun import ROOT, RunningService, StageDir, cue

from stagebox.cues.cue import Cue
from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.disk import FolderInUseError, FolderLock, marker_path, take_is_live
from stagebox.takes.log import TakeLog
from stagebox.timecode import Rate, Timecode
from stagebox.wavfile import read_wav

CUE_101 = cue("101", "01:00:10:00", "01:00:11:00")


@pytest.fixture
def stage(tmp_path):
    return StageDir(tmp_path)


def sheet_at(path: Path, cues: list[Cue], rate: str) -> Path:
    lines = [f"# rate: {rate}", "Cue,Character,TC In,TC Out,Dialogue"]
    lines += [f"{c.number},{c.character},{c.tc_in},{c.tc_out},Mary?" for c in cues]
    path.write_text("\n".join(lines) + "\n")
    return path


def cue_at(number: str, tc_in: str, tc_out: str, rate: Rate) -> Cue:
    return Cue(number, Timecode.parse(tc_in, rate), Timecode.parse(tc_out, rate), "JOHN")


def report_rows(svc: RunningService) -> list[dict]:
    return list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))


def assert_take_is_the_feed(stage: StageDir, path: Path, first_sample: int) -> int:
    """The take's audio is the feed's mic channel from `first_sample`, sample for sample."""
    take = read_wav(path)
    truth = read_wav(
        stage.feed_path, channels=[stage.feed.mic_channel], start=first_sample, frames=take.frames
    )
    assert truth.frames == take.frames
    np.testing.assert_array_equal(take.samples, truth.samples)
    return take.frames


# -- 1. the documented workflow: default config, cues load, mode record -------------------------


def test_default_config_then_cues_load_and_record_writes_every_take(stage):
    """No cue_sheet and timecode.rate "auto" (the defaults): the takes must reach the disk,
    stamped with the LTC's rate, and the log, the report and the folder must agree."""
    feed = stage.write_feed([CUE_101], passes=2, lead_in=1.5, preroll=1.0)
    sheet = sheet_at(stage.root / "reel1.csv", [CUE_101], "25")
    stage.write_config()
    with RunningService(stage) as svc:
        svc.wait_ready()
        assert "1 cue loaded" in svc.cli("cues", "load", str(sheet)).stdout
        assert svc.cli("mode", "record").stdout.strip() == "mode: record"
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
        takes = json.loads(svc.cli("takes", "--json").stdout)
        rows = report_rows(svc)
    wavs = sorted(p.name for p in stage.takes.glob("*.wav"))
    assert wavs == ["101_T001.wav", "101_T002.wav"]
    assert [(t["file"], t["state"]) for t in takes] == [(w, "complete") for w in wavs]
    assert [r["file"] for r in rows] == wavs
    for n, name in enumerate(wavs):
        path = stage.takes / name
        meta = read_take_metadata(path)
        assert meta.rate is not None and meta.rate.name == "25"
        assert [(t.name, t.function) for t in meta.tracks] == [("Mic 1", "ADR")]
        frames = assert_take_is_the_feed(stage, path, feed.passes[n].tc_in_sample("101"))
        assert frames == feed.passes[n].tc_out_sample("101") - feed.passes[n].tc_in_sample("101")
        assert takes[n]["frames"] == frames


# -- 2. a take that cannot be written is loud, never listed as recorded -------------------------


def test_disk_below_its_reserve_is_a_fault_everywhere_and_no_take_is_listed_as_recorded(stage):
    stage.write_feed([CUE_101], passes=2, lead_in=0.5)
    sheet = sheet_at(stage.root / "reel1.csv", [CUE_101], "25")
    # A reserve no disk here has free: every take's opening is refused.
    stage.write_config(
        stage__cue_sheet=str(sheet), stage__mode="record", takes__disk_reserve_mb=1_000_000
    )
    with RunningService(stage) as svc:
        status = svc.wait_until(lambda s: s.get("fault") and s, 10, "the record fault")
        assert "reserve" in status["fault"]
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
        takes = json.loads(svc.cli("takes", "--json").stdout)
        rows = report_rows(svc)
        refused = svc.cli("mode", "rehearse")
        again = svc.cli("mode", "record", check=False)
        monitor = svc.cli("monitor", "--once", "--width", "240", "--height", "60").stdout
        table = svc.cli("takes").stdout
        status = svc.call("status")
    assert refused.returncode == 0
    assert again.returncode == 2 and "record not armed" in again.stderr
    assert "reserve" in again.stderr
    assert takes and all(t["state"] == "failed" and "reserve" in t["reason"] for t in takes)
    assert all(t["frames"] == 0 for t in takes)
    assert rows == [] and not list(stage.takes.glob("*.wav"))
    assert "NOT RECORDING" in svc.log and "ERROR" in svc.log
    assert "reserve" in monitor and "failed" in monitor  # the fault and the last take, red
    assert "failed" in table and "reserve" in table
    assert status["last_take"]["state"] == "failed" and "reserve" in status["last_take"]["reason"]


def test_the_takes_folder_gone_mid_session_is_a_fault_that_clears_when_it_is_back(
    tmp_path, monkeypatch
):
    """In-process: the record light flashes while nothing can be written, the writer
    survives, and the next pass records once the folder is back."""
    from stagebox.service import core

    monkeypatch.setattr(core, "DISK_CHECK_INTERVAL", 0.1)
    stage = StageDir(tmp_path)
    long_cue = cue("101", "01:00:10:00", "01:00:11:00")
    feed = stage.write_feed([long_cue], passes=12, preroll=1.0, postroll=1.0)
    sheet = sheet_at(stage.root / "reel1.csv", [long_cue], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    from stagebox.config import load_config
    from stagebox.service import StageService

    service = StageService(load_config(stage.config), config_path=stage.config)
    runner = threading.Thread(target=service.run, daemon=True)
    runner.start()
    away = tmp_path / "takes-away"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first take recorded and closed
            if service.takelog and [r.state for r in service.takelog.takes()] == ["complete"]:
                break
            time.sleep(0.02)
        stage.takes.rename(away)  # the SSD unplugged
        while not service.fault.reason and time.monotonic() < deadline:
            time.sleep(0.02)
        fault = service.fault.reason
        assert "gone" in fault or "No such file" in fault
        assert service.status()["fault"] == fault
        flashes = _record_light_states(service, 1.5)
        assert True in flashes and False in flashes  # the record light flashes
        away.rename(stage.takes)  # plugged back in
        while service.fault.reason and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.fault.reason == ""
        while time.monotonic() < deadline:  # the next pass records again
            if [r.state for r in service.takelog.takes()].count("complete") >= 2:
                break
            time.sleep(0.05)
    finally:
        service.stop()
        runner.join(15)
    assert service.writer is not None
    records = TakeLog(stage.takes).takes()
    states = [r.state for r in records]
    assert states[0] == "complete" and "complete" in states[1:]  # recorded again after
    on_disk = {p.name for p in stage.takes.glob("*.wav")}
    for r in records:
        assert (r.file in on_disk) == (r.state in ("complete", "interrupted", "repaired")), r
    assert feed.passes  # the feed ran its passes


def _record_light_states(service, seconds: float) -> list[bool]:
    states = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        states.append(service.gpio.lit("record_light"))
        time.sleep(0.05)
    return states


# -- 3. a take repaired after a crash is listed; live takes are left alone ----------------------


def test_sigkill_mid_take_then_restart_lists_the_repaired_take(stage):
    long_cue = cue("101", "01:00:10:00", "01:00:30:00")  # long enough to look at it live
    feed = stage.write_feed([long_cue], passes=1)
    sheet = sheet_at(stage.root / "reel1.csv", [long_cue], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["writer"]["recording"], 10, "recording")
        time.sleep(1.0)
        path = stage.takes / "101_T001.wav"
        assert take_is_live(path)
        # take info on the live take does not advise a repair; take repair leaves it be.
        info = svc.cli("take", "info", str(path)).stdout
        assert "recording now" in info and "take repair" not in info
        repair = svc.cli("take", "repair", str(stage.takes)).stdout
        assert "0 takes repaired" in repair and marker_path(path).exists()
        # A second service on the same folder stops before touching anything.
        second = subprocess.run(
            [sys.executable, "-m", "stagebox", "run", "--config", str(stage.config)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
        assert second.returncode != 0 and "another stagebox service" in second.stderr
        assert marker_path(path).exists() and take_is_live(path)
        deadline = time.monotonic() + 20  # 2 s of mono 24-bit audio on disk, however busy
        while path.stat().st_size < 12288 + 2 * 48000 * 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        svc.proc.send_signal(signal.SIGKILL)
        svc.proc.wait(5)
    assert marker_path(path).exists() and not take_is_live(path)
    first_feed = stage.feed_path.rename(stage.root / "feed-before-the-crash.wav")
    stage.write_feed([long_cue], passes=1, lead_in=5.0)  # a quiet restart
    with RunningService(stage) as svc:
        svc.wait_ready()
        takes = json.loads(svc.cli("takes", "--json").stdout)
        assert [(t["file"], t["state"]) for t in takes] == [("101_T001.wav", "repaired")]
        take = read_wav(path)
        truth = read_wav(
            first_feed, channels=[feed.mic_channel], start=feed.passes[0].tc_in_sample("101")
        )
        frames = take.frames
        np.testing.assert_array_equal(take.samples, truth.samples[:frames])
        assert takes[0]["frames"] == frames > 48000
        assert [r["file"] for r in report_rows(svc)] == ["101_T001.wav"]
        out = svc.cli("take", "circle", "101", "1").stdout
        assert "circled" in out
        svc.stop()
    assert read_take_metadata(path).circled
    assert not marker_path(path).exists()


def test_folder_lock_is_exclusive_and_dies_with_its_holder(tmp_path):
    lock = FolderLock(tmp_path).acquire()
    with pytest.raises(FolderInUseError, match="another stagebox service"):
        FolderLock(tmp_path).acquire()
    lock.release()
    FolderLock(tmp_path).acquire().release()


# -- 4. one pass, one take ----------------------------------------------------------------------


def test_cue_change_and_sheet_reload_mid_take_wait_for_the_punch_out(stage):
    long_cue = cue("101", "01:00:10:00", "01:00:18:00")  # long enough for two commands
    other = cue("103", "01:00:20:00", "01:00:21:00")
    feed = stage.write_feed([long_cue], passes=1, preroll=1.0)
    sheet = sheet_at(stage.root / "reel1.csv", [long_cue, other], "25")
    changed = sheet_at(stage.root / "reel1b.csv", [long_cue, other], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["writer"]["recording"], 10, "recording")
        moved = svc.cli("cue", "103").stdout
        loaded = svc.call("cues.load", path=str(changed))  # the CLI's request, without its start
        svc.wait_until(lambda s: not s["audio"], 30, "the feed's end")
        status = svc.call("status")
        assert svc.stop() == 0
    assert "deferred" in moved and "when it closes" in moved
    assert "apply when it closes" in loaded["deferred"]
    [record] = TakeLog(stage.takes).takes()  # one take, not two fragments
    assert record.state == "complete"
    truth = feed.passes[0]
    assert record.frames == truth.tc_out_sample("101") - truth.tc_in_sample("101")
    assert_take_is_the_feed(stage, stage.takes / record.file, truth.tc_in_sample("101"))
    # Applied once the take closed (after it, the stage follows the LTC again).
    log = svc.log
    assert log.index("punch_out at 01:00:18:00") < log.index("cue at - cue=103")
    assert status["cue"] is not None


# -- 5. rates -----------------------------------------------------------------------------------


def test_ltc_at_another_rate_than_the_sheet_is_shown_and_the_take_carries_the_ltcs(stage):
    rate24 = Rate.parse("24")
    c24 = cue_at("101", "01:00:10:00", "01:00:11:00", rate24)
    stage.write_feed([c24], passes=1)
    sheet = sheet_at(stage.root / "reel1.csv", [cue("101", "01:00:10:00", "01:00:11:00")], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        status = svc.wait_until(lambda s: s.get("warning") and s, 10, "the rate warning")
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
        takes = json.loads(svc.cli("takes", "--json").stdout)
    assert "LTC runs at 24" in status["warning"] and "sheet is at 25" in status["warning"]
    for t in takes:
        assert t["rate"] == "24"
        assert read_take_metadata(stage.takes / t["file"]).rate.name == "24"


def test_an_explicit_rate_the_ltc_does_not_run_at_records_nothing_and_says_why(stage):
    rate24 = Rate.parse("24")
    c24 = cue_at("101", "01:00:10:00", "01:00:11:00", rate24)
    stage.write_feed([c24], passes=1)
    sheet = sheet_at(stage.root / "reel1.csv", [cue("101", "01:00:10:00", "01:00:11:00")], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record", timecode__rate="25")
    with RunningService(stage) as svc:
        status = svc.wait_until(lambda s: s.get("warning") and s, 10, "the rate warning")
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
    assert "not recording" in status["warning"]
    assert not list(stage.takes.glob("*.wav"))
    assert "no take: LTC runs at 24" in svc.log


# -- 6. commands and systemd --------------------------------------------------------------------


def test_a_command_that_timed_out_is_never_applied_later(monkeypatch):
    from stagebox.control.protocol import ControlError
    from stagebox.service import commands
    from stagebox.service.commands import CommandTable

    class Table(CommandTable):
        def __init__(self) -> None:
            import queue

            self._commands = queue.Queue()
            self.applied: list[str] = []

        def _apply(self, name, args, sample):
            self.applied.append(name)
            return {"mode": args["mode"]}

    monkeypatch.setattr(commands, "COMMAND_TIMEOUT", 0.05)
    table = Table()
    with pytest.raises(ControlError, match="not applied"):
        table._queue("mode", {"mode": "safe"})
    table._apply_commands(0)  # the engine comes round at last
    assert table.applied == []
    # A command the engine takes in time is applied, once.
    answer = threading.Timer(0.01, table._apply_commands, args=(0,))
    answer.start()
    assert table._queue("mode", {"mode": "record"}) == {"mode": "record"}
    answer.join()
    assert table.applied == ["mode"]


def test_systemd_refusing_a_status_message_does_not_stop_the_service(monkeypatch):
    import types

    from stagebox import notify

    def refuse(message):
        raise OSError(90, "Message too long")

    fake = types.SimpleNamespace(daemon=types.SimpleNamespace(notify=refuse))
    monkeypatch.setitem(sys.modules, "systemd", fake)
    monkeypatch.setitem(sys.modules, "systemd.daemon", fake.daemon)
    notifier = notify.Notifier()
    notifier.status("x" * 100000)  # no exception
    notifier.ready()
    assert notifier.ready_sent


# -- 7. TC-out in the log at 23.976 and 29.97 DF ------------------------------------------------


@pytest.mark.parametrize(
    ("rate_name", "tc_in", "tc_out"),
    [("23.976", "01:00:10:00", "01:00:12:13"), ("29.97df", "01:00:59;20", "01:01:01;04")],
)
def test_the_log_has_the_cues_tc_out_for_every_exact_take(tmp_path, rate_name, tc_in, tc_out):
    from stagebox.replay import replay
    from stagebox.sim.stagefeed import StageFeed

    rate = Rate.parse(rate_name)
    c = cue_at("101", tc_in, tc_out, rate)
    feed = StageFeed([c], passes=2, preroll=1.0, postroll=0.5)
    feed_path = tmp_path / "feed.wav"
    feed.fresh().write_wav(feed_path)
    sheet = sheet_at(tmp_path / "sheet.csv", [c], rate_name)
    out = tmp_path / "takes"
    replay(feed_path, cues=sheet, out=out)
    records = TakeLog(out).takes()
    assert len(records) == 2
    for record in records:
        assert (record.tc_in, record.tc_out, record.state) == (
            str(c.tc_in),
            str(c.tc_out),
            "complete",
        )
        assert record.frames == feed.passes[0].tc_out_sample("101") - feed.passes[0].tc_in_sample(
            "101"
        )


# -- 8. the writer recovers: full disk, folder gone, a name already taken -----------------------


def test_a_take_whose_name_exists_gets_the_next_free_number(stage):
    stage.write_feed([CUE_101], passes=1, lead_in=4.0)  # time to copy a file in first
    sheet = sheet_at(stage.root / "reel1.csv", [CUE_101], "25")
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    squatter = stage.takes / "101_T001.wav"
    with RunningService(stage) as svc:
        svc.wait_ready()
        # A file copied in after the take numbers were read: take 1's name is taken.
        with open(squatter, "xb") as f:  # (never over a take, were one there already)
            f.write(b"not ours: never overwritten")
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
        takes = json.loads(svc.cli("takes", "--json").stdout)
    assert squatter.read_bytes() == b"not ours: never overwritten"
    assert [t["file"] for t in takes if t["state"] == "complete"] == ["101_T002.wav"]


def test_probe_names_each_reason_takes_cannot_be_written(tmp_path, monkeypatch):
    import os

    from stagebox.service.recordfault import probe_folder

    assert probe_folder(tmp_path, 10**9, 10**6) == ""
    assert "gone" in probe_folder(tmp_path / "nope", 10**9, 10**6)
    afile = tmp_path / "file"
    afile.write_text("")
    assert "not a folder" in probe_folder(afile, 10**9, 10**6)
    assert "reserve" in probe_folder(tmp_path, 10**5, 10**6)
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(".stagebox-write-probe"):
            raise OSError(30, "Read-only file system")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    assert "Read-only file system" in probe_folder(tmp_path, 10**9, 10**6)


def test_a_take_cut_short_by_a_full_disk_is_listed_with_the_frames_on_disk(tmp_path):
    """The engine punched 1 s of audio; the disk filled after 10001 frames: the log lists
    10001 frames, interrupted, with the reason, and the file holds exactly those."""
    import errno
    import os

    from stagebox.takes.book import TakeBook
    from stagebox.takes.disk import TakeDisk
    from stagebox.takes.punch import TakeStart, WriterSink
    from stagebox.takes.writer import TakeWriter

    class FullDisk(TakeDisk):
        def __init__(self, budget: int) -> None:
            self.budget = budget

        def write(self, fd, data):
            if self.budget <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            n = os.write(fd, data[: min(len(data), self.budget)])
            self.budget -= n
            return n

    sr = 48000
    writer = TakeWriter(disk_reserve_bytes=0, disk=FullDisk(12288 + 3 * 10_001)).start()
    takelog = TakeLog(tmp_path)
    book = TakeBook(takelog)
    sink = WriterSink(writer, str(tmp_path), sample_rate=sr, channels=1, bits=24)
    try:
        rate = Rate.parse("25")
        info = {
            "cue": "101",
            "take": book.next_take("101"),
            "file": "101_T001.wav",
            "tc_in": "01:00:10:00",
            "rate": rate.name,
            "sample_rate": sr,
            "note": "",
        }
        start = TakeStart("101_T001.wav", "101", 1, 0, 0, rate=rate)
        info["opened"] = sink.open_take(start)
        book.take_opened(info)
        for _ in range(0, sr, 480):
            sink.write(np.full((480, 1), 0.25, np.float32))
        info.update(frames=sr, tc_out="01:00:11:00", interrupted="", closed=sink.close_take())
        book.take_closed(info)
        book.flush()
    finally:
        writer.stop()
        book.stop()
    [record] = TakeLog(tmp_path).takes()
    assert read_wav(tmp_path / "101_T001.wav").frames == record.frames == 10_001
    assert record.state == "interrupted" and "disk full" in record.reason


def test_status_before_the_first_audio_period_has_every_key(tmp_path):
    """A client asking at once (a monitor started with the service) gets the whole shape."""
    from stagebox.config import load_config
    from stagebox.service import StageService

    stage = StageDir(tmp_path)
    stage.write_feed([CUE_101], passes=1)
    stage.write_config()
    service = StageService(load_config(stage.config), config_path=stage.config)
    early = service.status()
    for key in ("sample", "mode", "lock", "fault", "warning", "message", "timecode", "take"):
        assert key in early, key
    assert early["sample"] == 0 and early["lock"] == "lost"


def test_a_sheet_that_names_no_rate_takes_the_ltcs_once_it_is_locked(stage):
    """The documented workflow with the plainest sheet (no `# rate:` line) on a stage set to
    auto: `cues load` takes the rate the LTC runs at, says so, and the takes are recorded."""
    feed = stage.write_feed([CUE_101], passes=2, lead_in=0.3, preroll=3.0)
    sheet = stage.root / "plain.csv"
    sheet.write_text(
        "Cue,Character,TC In,TC Out,Dialogue\n101,JOHN,01:00:10:00,01:00:11:00,Mary?\n"
    )
    stage.write_config()
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["lock"] == "locked" and s.get("rate"), 10, "LTC locked")
        time.sleep(0.6)  # the rate is measured over 8 frames of the run (0.32 s at 25 fps)
        loaded = svc.call("cues.load", path=str(sheet))
        svc.cli("mode", "record")
        svc.wait_until(lambda s: not s["audio"], 30, "the feed's end")
        takes = json.loads(svc.cli("takes", "--json").stdout)
        assert svc.stop() == 0
    assert loaded["rate"] == "25" and any("using the LTC's, 25" in w for w in loaded["warnings"])
    assert takes and all(t["state"] == "complete" and t["rate"] == "25" for t in takes)
    first = feed.passes[-1].tc_in_sample("101")
    assert_take_is_the_feed(stage, stage.takes / takes[-1]["file"], first)
