"""A stage day, end to end: the real `stagebox run`, driven with the documented commands.

One scripted day on the simulated stage, through one takes folder, as issue 9 asks for:

1. 25 fps, the default config (no cue sheet, `timecode.rate = auto`), in real time: the crew
   `cues load`s a sheet and arms `mode record`; the DAW loops cue 101 four times. Pass 1: a
   `stagebox cue 102` mid-take (deferred: the take is not split). Pass 2: a 0.4 s LTC dropout
   (bridged inside the take) and a `cues load` mid-take (deferred). Pass 3: a 3 s dropout (the
   take closes, interrupted, and a late pickup take follows when LTC comes back). Pass 4:
   `take repair` beside the live take (left alone), then the service is SIGKILLed mid-take;
   `stagebox take repair` finishes the take and the log.
2. 23.976 fps: restarted on a new feed with the sheet in its config; take numbers go on.
3. 24 fps LTC on a stage set to `timecode.rate = 25`: the warning in `status`, no take.
4. 29.97 DF, restarted with `takes.disk_reserve_mb` above the free space: the record fault in
   `status`, `mode record` refused with the reason, the pass's take logged *failed*.
5. 29.97 DF again with room on the disk; then circles and notes, `takes` and `report`.

At the end the report's rows, the valid WAVs in the folder and the takes the script recorded
are the same set; every take is checked sample for sample against the feed it was cut from
(the feed knows where each pass's TC-in and TC-out fell and which mic samples it carried); and
every failure was visible in `status` (lock, fault, warning) or the take's state when it
happened. Real time is used only in the sessions where commands must land mid-pass.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from servicerun import ROOT, RunningService, StageDir, wait_for

from stagebox.cli import main as cli_main
from stagebox.control.client import ControlClient
from stagebox.control.protocol import ControlError
from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import StageFeed
from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.disk import marker_path
from stagebox.timecode import Rate, Timecode
from stagebox.wavfile import read_wav, read_wav_info

R24, R25, R2398 = Rate.parse("24"), Rate.parse("25"), Rate.parse("23.976")
R2997DF = Rate.parse("29.97df")


def make_cue(number: str, tc_in: str, tc_out: str, rate: Rate, character: str = "JOHN") -> Cue:
    return Cue(number, Timecode.parse(tc_in, rate), Timecode.parse(tc_out, rate), character)


def write_sheet(path: Path, cues: list[Cue], dialogue: str = "Mary? Are you in there?") -> Path:
    lines = [f"# rate: {cues[0].tc_in.rate.name}", "Cue,Character,TC In,TC Out,Dialogue"]
    lines += [f"{c.number},{c.character},{c.tc_in},{c.tc_out},{dialogue}" for c in cues]
    path.write_text("\n".join(lines) + "\n")
    return path


# The day's cues: cue 101 at each rate (its takes number on across the restarts), and a cue
# 102 the crew selects mid-take. 23.976: the 61-frame cue of issue 9 (TC-out 01:00:12:13).
CUE_25 = make_cue("101", "01:00:10:00", "01:00:14:00", R25)  # 4 s: room for a 3 s dropout
CUE_25_102 = make_cue("102", "01:00:30:00", "01:00:32:00", R25, "MARY")
CUE_2398 = make_cue("101", "01:00:10:00", "01:00:12:13", R2398)
CUE_24 = make_cue("101", "01:00:10:00", "01:00:11:00", R24)  # the DAW session at the wrong rate
CUE_2997 = make_cue("101", "01:00:59;20", "01:01:01;10", R2997DF)  # across a dropped minute


@dataclass
class Take:
    """A take the script recorded, with the truth to check it against."""

    take: int
    feed: StageFeed
    feed_path: Path
    pass_index: int
    kind: str  # complete, bridged, cut (LTC lost), pickup, killed, failed
    circled: bool = False
    note: str = ""

    @property
    def file(self) -> str:
        return f"101_T{self.take:03d}.wav"

    @property
    def state(self) -> str:
        return {
            "complete": "complete",
            "bridged": "complete",
            "pickup": "complete",
            "cut": "interrupted",
            "killed": "repaired",
            "failed": "failed",
        }[self.kind]


class StatusLog:
    """Polls the service's `status` on a thread of its own (what `stagebox monitor` shows),
    keeping every answer, so the test can ask afterwards what the crew saw and when."""

    def __init__(self, socket: Path, interval: float = 0.04) -> None:
        self.socket = str(socket)
        self.interval = interval  # seconds
        self.seen: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        client = None
        while not self._stop.is_set():
            try:
                client = client or ControlClient(self.socket, timeout=2.0).connect()
                status = client.call("status")
            except (ControlError, OSError):
                if client is not None:
                    client.close()
                client = None
            else:
                if "sample" in status:  # the stage has run (before that: "starting")
                    with self._lock:
                        self.seen.append(status)
            self._stop.wait(self.interval)
        if client is not None:
            client.close()

    def wait(self, predicate, timeout: float, what: str) -> dict:
        """The first status seen (so far or from now on) for which `predicate` is true."""
        start = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                new = self.seen[start:]
            for status in new:
                if predicate(status):
                    return status
            start += len(new)
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; last status {self.last()}")

    def within(self, span: tuple[int, int]) -> list[dict]:
        """The statuses of samples in [start, end) (a feed's dropout, say), in order."""
        with self._lock:
            return [s for s in self.seen if span[0] <= s["sample"] < span[1]]

    def any(self, predicate) -> bool:
        with self._lock:
            return any(predicate(s) for s in self.seen)

    def last(self) -> dict | None:
        with self._lock:
            return self.seen[-1] if self.seen else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def replace_rate(cue: Cue, rate: Rate) -> Cue:
    """The same cue, its labels read at another rate."""
    return make_cue(cue.number, str(cue.tc_in), str(cue.tc_out), rate, cue.character)


def takes_json(svc: RunningService) -> dict[int, dict]:
    """`stagebox takes --json`, by take number (every take of the day is of cue 101)."""
    return {r["take"]: r for r in json.loads(svc.cli("takes", "--json").stdout)}


def take_in_state(svc: RunningService, take: int, state: str, timeout: float = 10.0) -> dict:
    """Wait until the service lists `take` in `state` (the take book logs off the audio path,
    a moment after the punch-out); its record."""

    def logged() -> dict | None:
        record = {r["take"]: r for r in svc.call("takes")}.get(take)
        return record if record and record["state"] == state else None

    return wait_for(logged, timeout, f"take {take} {state}")


def at_once(*args: str) -> str:
    """`stagebox ARGS` run in this process: the command line's own code, without the second
    or more a new Python takes to start on a busy machine, for the commands that must land
    while a take records. Its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    assert code == 0, f"stagebox {' '.join(args)} exited {code}: {out.getvalue()}{err.getvalue()}"
    return out.getvalue()


def stagebox(*args: str) -> subprocess.CompletedProcess:
    """`stagebox ARGS` with no service to ask (offline commands)."""
    return subprocess.run(
        [sys.executable, "-m", "stagebox", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


def new_feed(stage: StageDir, name: str, cues: list[Cue], **options) -> StageFeed:
    """Each session's feed in a WAV of its own: the takes are checked against it at the end."""
    stage.feed_path = stage.root / f"{name}.wav"
    return stage.write_feed(cues, **options)


def fed_to_the_end(svc: RunningService) -> dict:
    """The service has played a (not real-time) feed to its end; its status then."""
    return svc.wait_until(
        lambda s: s.get("message") == "audio feed ended" and not s["audio"] and s,
        30,
        "the feed's end",
    )


@pytest.mark.timeout(120)
def test_a_stage_day(tmp_path):
    stage = StageDir(tmp_path)
    sr = 48000
    script: list[Take] = []  # every take the day recorded (or tried to), in order

    # -- 1. 25 fps, the default config, in real time ----------------------------------------
    reel1 = write_sheet(tmp_path / "reel1.csv", [CUE_25, CUE_25_102])
    reel1b = write_sheet(tmp_path / "reel1b.csv", [CUE_25, CUE_25_102], "Mary? Mary!")
    feed1 = new_feed(
        stage,
        "feed25",
        [CUE_25],
        passes=4,
        lead_in=6.0,  # seconds of silence: the crew loads the sheet and arms record
        dropouts=[(1, 2.0, 0.4), (2, 1.3, 3.0)],  # 1.0 s and 0.3 s after TC-in
    )
    path1 = stage.feed_path
    stage.write_config()  # no cue_sheet, timecode.rate auto, mode safe: the defaults
    p = feed1.passes
    with RunningService(stage) as svc:
        svc.wait_ready(15)
        watch = StatusLog(stage.socket)
        try:
            first = watch.wait(lambda s: True, 5, "a status")
            assert first["mode"] == "safe" and first["cue_sheet"] is None
            out = svc.cli("cues", "load", str(reel1)).stdout
            assert "2 cues loaded at 25 fps" in out
            assert svc.cli("mode", "record").stdout.strip() == "mode: record"
            armed = watch.wait(lambda s: s["mode"] == "record", 5, "record armed")
            assert armed["sample"] < p[0].tc_in_sample("101"), "armed late: a slow machine?"

            # Pass 1: a cue change mid-take waits for the take to close.
            watch.wait(lambda s: s["recording"] and s["take"] == 1, 10, "take 1")
            out = at_once("cue", "102", "--socket", str(stage.socket))
            assert out.startswith("cue 102") and "deferred: take 1 of cue 101 is recording" in out
            assert take_in_state(svc, 1, "recording", 3)["file"] == "101_T001.wav"  # live
            script.append(Take(1, feed1, path1, 0, "complete"))

            # Pass 2: a 0.4 s LTC dropout and a sheet reload mid-take.
            watch.wait(lambda s: s["recording"] and s["take"] == 2, 10, "take 2")
            out = at_once("cues", "load", str(reel1b), "--socket", str(stage.socket))
            assert "deferred: take 2 of cue 101 is recording" in out
            script.append(Take(2, feed1, path1, 1, "bridged"))

            # Pass 3: a 3 s dropout ends the take; LTC back before TC-out: a late pickup.
            cut = take_in_state(svc, 3, "interrupted", 15)
            assert cut["reason"] == "LTC lost before TC-out"
            script.append(Take(3, feed1, path1, 2, "cut"))
            take_in_state(svc, 4, "complete")  # the pickup: checked against the feed below
            script.append(Take(4, feed1, path1, 2, "pickup"))

            # Pass 4: `take repair` leaves the live take 5 alone; then the service is killed.
            watch.wait(lambda s: s["recording"] and s["take"] == 5, 10, "take 5")
            out = at_once("take", "repair", str(stage.takes))
            assert "0 takes repaired" in out and "keeps its take log" in out
            marker = marker_path(stage.takes / "101_T005.wav").exists()
            now = svc.call("status")
            assert now["recording"] and now["take"] == 5, "take 5 closed first: a slow machine?"
            assert marker, "take repair finished the live take 5"
            kill_at = p[3].tc_in_sample("101") + int(1.5 * sr)
            watch.wait(lambda s: s["take"] == 5 and s["sample"] >= kill_at, 10, "1.5 s of take 5")
            assert watch.last()["recording"], "take 5 ended before the kill: too slow a machine?"
            svc.signal(signal.SIGKILL)
            svc.proc.wait(5)
            script.append(Take(5, feed1, path1, 3, "killed"))
        finally:
            watch.close()
        log1 = svc.log

    # What the crew saw in status while it happened.
    # The 0.4 s dropout and the half second after it: the take went on (its note says so,
    # checked below), LTC never lost. (Its freewheel lasts about 0.3 s: too short to count
    # on a poll of a busy machine catching it.)
    muted, back = p[1].dropouts[0]
    bridged = watch.within((muted, back + sr // 2))
    assert bridged and all(s["recording"] and s["lock"] != "lost" for s in bridged), bridged
    # The 3 s one: freewheeling with the take open for 2 s and more, then lost, take closed.
    cut = watch.within(p[2].dropouts[0])
    assert any(s["lock"] == "freewheel" and s["recording"] for s in cut), cut
    assert any(s["lock"] == "lost" and not s["recording"] for s in cut), cut
    assert not watch.any(lambda s: s["fault"] or s["warning"])  # nothing else went wrong
    assert "Traceback" not in log1
    # The deferred changes applied when their takes closed: not before, and not never.
    journal = log1.splitlines()
    closed1 = next(i for i, line in enumerate(journal) if "punch_out" in line and "take=1 " in line)
    picked = next(i for i, line in enumerate(journal) if "cue at" in line and "cue=102" in line)
    opened2 = next(i for i, line in enumerate(journal) if "punch_in" in line and "take=2 " in line)
    assert closed1 < picked < opened2
    reloaded = [s for s in watch.seen if (s["cue"] or {}).get("dialogue") == "Mary? Mary!"]
    assert reloaded and reloaded[0]["sample"] >= p[1].tc_out_sample("101")

    # The killed take: left open (its marker), finished by `stagebox take repair`.
    killed = stage.takes / "101_T005.wav"
    assert marker_path(killed).exists(), "the killed take was not left open"
    repair = stagebox("take", "repair", str(stage.takes))
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert f"repaired {killed}" in repair.stdout and "1 take repaired" in repair.stdout
    assert "cue 101 take 5: 101_T005.wav repaired" in repair.stdout
    assert not marker_path(killed).exists()

    # -- 2. 23.976, restarted on a new feed, the sheet in the config -------------------------
    reel2 = write_sheet(tmp_path / "reel2.csv", [CUE_2398])
    feed2 = new_feed(stage, "feed2398", [CUE_2398], passes=2)
    stage.write_config(realtime=False, stage__cue_sheet=str(reel2), stage__mode="record")
    with RunningService(stage) as svc:
        fed_to_the_end(svc)
        take_in_state(svc, 7, "complete")
        take_in_state(svc, 5, "repaired")  # the log agrees with the folder after a restart
        assert svc.stop() == 0
    script += [Take(6, feed2, stage.feed_path, 0, "complete")]
    script += [Take(7, feed2, stage.feed_path, 1, "complete")]

    # -- 3. A reel whose LTC runs at 24 fps on a stage set to 25: no take, and it says why --
    reel_wrong = write_sheet(tmp_path / "reel25.csv", [replace_rate(CUE_24, R25)])
    new_feed(stage, "feed24", [CUE_24], passes=1, lead_in=0.5, preroll=4.0)
    stage.write_config(stage__cue_sheet=str(reel_wrong), stage__mode="record", timecode__rate="25")
    with RunningService(stage) as svc:
        watch = StatusLog(stage.socket)
        try:
            warned = watch.wait(lambda s: s["warning"], 15, "the rate warning")
            text = at_once("status", "--socket", str(stage.socket)).splitlines()
            fed_to_the_end(svc)
        finally:
            watch.close()
        why = "LTC runs at 24 but timecode.rate is 25: not recording"
        assert warned["warning"] == why and warned["lock"] == "locked"
        assert text[0] == f"WARNING    {why}"
        assert not watch.any(lambda s: s["recording"])
        assert [r["take"] for r in svc.call("takes")] == [1, 2, 3, 4, 5, 6, 7]  # no take
        assert svc.stop() == 0
    assert f"no take: {why}" in svc.log

    # -- 4. 29.97 DF, the takes disk below its reserve ---------------------------------------
    reel3 = write_sheet(tmp_path / "reel3.csv", [CUE_2997])
    free_mb = shutil.disk_usage(tmp_path).free // 1_000_000
    assert free_mb * 2 < 1_000_000  # the schema's largest reserve must be above the free space
    feed3 = new_feed(stage, "feed2997a", [CUE_2997], passes=1)
    stage.write_config(
        realtime=False,
        stage__cue_sheet=str(reel3),
        stage__mode="record",
        takes__disk_reserve_mb=free_mb * 2,
    )
    with RunningService(stage) as svc:
        status = fed_to_the_end(svc)
        status = svc.wait_until(lambda s: s.get("fault") and s, 10, "the record fault")
        assert "MB free" in status["fault"] and "reserve" in status["fault"], status["fault"]
        text = svc.cli("status").stdout.splitlines()
        # First, in plain words (the free space in it is the disk's, which moves on).
        assert text[0].startswith("FAULT      NOT RECORDING: ") and "reserve" in text[0]
        refused = svc.cli("mode", "record", check=False)
        assert refused.returncode != 0
        assert re.search(r"record not armed: .*MB free.*reserve", refused.stderr), refused.stderr
        failed = take_in_state(svc, 8, "failed")  # the blocked pass took no number either
        assert "reserve" in failed["reason"] and "101_T008.wav" in failed["reason"]
        assert svc.stop() == 0
    assert re.search(r"ERROR +stagebox.service: NOT RECORDING: .*reserve", svc.log), svc.log
    script.append(Take(8, feed3, stage.feed_path, 0, "failed"))

    # -- 5. 29.97 DF with room again; circles, notes, takes and the report ------------------
    feed4 = new_feed(stage, "feed2997b", [CUE_2997], passes=2)
    stage.write_config(realtime=False, stage__cue_sheet=str(reel3), stage__mode="record")
    with RunningService(stage) as svc:
        status = fed_to_the_end(svc)
        assert status["fault"] == ""
        take_in_state(svc, 10, "complete")
        script += [Take(9, feed4, stage.feed_path, 0, "complete")]
        script += [Take(10, feed4, stage.feed_path, 1, "complete")]
        by_number = {t.take: t for t in script}
        out = svc.cli("take", "note", "101", "1", "breath before Mary").stdout
        assert "101 take 1: not circled, note: breath before Mary" in out
        # The take the crash left open, repaired: it can be circled and noted like any other.
        out = svc.cli("take", "circle", "101", "5", "--note", "good to the cut").stdout
        assert "101 take 5: circled, note: good to the cut" in out
        assert "101 take 9: circled" in svc.cli("take", "circle", "101", "9").stdout
        by_number[1].note, by_number[5].note = "breath before Mary", "good to the cut"
        by_number[5].circled = by_number[9].circled = True
        report = list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))
        table = svc.cli("takes").stdout.splitlines()  # what the crew reads
        takes = takes_json(svc)
        assert svc.stop() == 0
        log4 = svc.log
    assert "Traceback" not in log4

    # -- the day's books: the report = the valid WAVs on disk = the takes the script recorded --
    on_disk = [t for t in script if t.state != "failed"]
    files = sorted(p.name for p in stage.takes.glob("*.wav"))
    assert files == sorted(t.file for t in on_disk)
    assert [r["file"] for r in report] == [t.file for t in on_disk]
    assert sorted(takes) == [t.take for t in script]
    for t in script:
        record = takes[t.take]
        assert record["state"] == t.state, (t, record)
        assert record["circled"] == t.circled and record["note"] == t.note, (t, record)
    for row in report:
        t = by_number[int(row["take"])]
        assert row["state"] == t.state and row["circled"] == ("yes" if t.circled else "no")
    assert table[0].split()[:3] == ["CUE", "TAKE", "STATE"]
    rows = {int(line.split()[1]): line for line in table[1:]}
    assert sorted(rows) == [t.take for t in script]
    for t in script:
        cells = rows[t.take].split()
        assert cells[2 + t.circled] == t.state, rows[t.take]
        assert cells[7 + t.circled] == ("-" if t.state == "failed" else t.file), rows[t.take]
    assert "below the reserve" in rows[8] and "LTC lost before TC-out" in rows[3]
    assert not list(stage.takes.glob(".*.open"))  # no take left open

    # -- every take, sample for sample, against its feed -------------------------------------
    for t in on_disk:
        check_take(stage.takes / t.file, t, takes[t.take])


def check_take(path: Path, t: Take, record: dict) -> None:
    """The take's audio is the feed's mic channel from its first sample, exactly; its
    TimeReference says which sound that is; the log's facts match the file's."""
    feed = t.feed
    truth = feed.passes[t.pass_index]
    cue = feed.cues[0]
    sr = feed.sample_rate
    info = read_wav_info(path)
    assert info.header_consistent and not marker_path(path).exists(), path
    meta = read_take_metadata(path)
    assert meta.rate == feed.rate and record["rate"] == feed.rate.name, (path, meta.rate)
    assert record["frames"] == info.frames and info.channels == 1 and info.sample_rate == sr
    assert meta.circled == t.circled and (t.note in meta.note), (path, meta)
    first_label = Timecode.from_samples(meta.time_reference, sr, feed.rate)
    tc_in, tc_out = truth.tc_in_sample(cue.number), truth.tc_out_sample(cue.number)
    if t.kind == "pickup":
        # Recorded from the first frame the clock had again after the dropout.
        start = round(truth.frame_starts[first_label - feed.loop_start])
        assert truth.dropouts[0][1] <= start < truth.dropouts[0][1] + sr // 2, (path, start)
        assert start + info.frames == tc_out
        assert "late pickup" in record["flags"][0]
    else:
        start = tc_in
        assert first_label == cue.tc_in, (path, first_label)
        assert record["tc_in"] == str(cue.tc_in)
    if t.kind in ("complete", "bridged"):
        assert info.frames == tc_out - tc_in, (path, info.frames, tc_out - tc_in)
        assert record["tc_out"] == str(cue.tc_out)
    elif t.kind == "cut":
        dropout = truth.dropouts[0]
        print(
            "CUTDBG",
            info.frames - (dropout[0] - tc_in),
            [fs for fs in truth.frame_starts if fs <= dropout[0]][-1]
            - tc_in
            + 60 * 1920
            - info.frames,
        )
        assert dropout[0] - tc_in < info.frames < dropout[1] - tc_in, (path, info.frames)
    elif t.kind == "killed":
        assert sr // 2 < info.frames < tc_out - tc_in, (path, info.frames)
    if t.kind == "bridged":
        assert re.search(r"LTC dropout 0\.\d\d s at \S+ bridged", record["flags"][0]), record
    take = read_wav(path)
    heard = read_wav(t.feed_path, channels=[feed.mic_channel], start=start, frames=info.frames)
    assert heard.frames == info.frames
    np.testing.assert_array_equal(take.samples, heard.samples, err_msg=str(path))
