"""The running service scores each finished take against the guide folder (tests/servicerun.py:
the real `stagebox run` in simulation). The guide is the production line: the simulated
actor's pass 1 as it came down the mic channel of the stage feed, exported as a BWF stamped
with the cue's TC-in. Take 1 is that very performance, so it is in sync; the simulated actor
speaks other syllables on pass 2, which must not pass as in sync. Each verdict reaches the
take log, the report's sync column and the take's iXML NOTE."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
from servicerun import RunningService, StageDir, cue

from stagebox.takes.bwf import TakeFile, TakeFormat, read_take_metadata
from stagebox.takes.meta import TakeMetadata
from stagebox.timecode import RATE_25
from stagebox.wavfile import read_wav

CUE_101 = cue("101", "01:00:10:00", "01:00:13:00")


def test_service_scores_each_take_into_the_report_and_note(tmp_path):
    stage = StageDir(tmp_path)
    feed = stage.write_feed([CUE_101], passes=2)
    sheet = tmp_path / "reel1.csv"
    sheet.write_text(
        f"# rate: 25\nCue,Character,TC In,TC Out,Dialogue\n101,JOHN,"
        f"{CUE_101.tc_in},{CUE_101.tc_out},Mary? Are you in there?\n"
    )
    first = feed.passes[0].tc_in_sample("101")
    length = feed.passes[0].tc_out_sample("101") - first
    line = read_wav(stage.feed_path, channels=[feed.mic_channel], start=first, frames=length)
    guides = tmp_path / "guides"
    guides.mkdir()
    rate = 48000
    meta = TakeMetadata(project="Nightfall", scene="101", take="dx", rate=RATE_25)
    dx = TakeFile(
        guides / "reel1_dx.wav",
        TakeFormat(rate, 1, 24),
        meta.with_file_facts(time_reference=CUE_101.tc_in.samples_since_midnight(rate)),
    )
    dx.write(line.samples.astype(np.float32))
    dx.close()
    assert line.samples.std() > 0.01  # the actor speaks in the cue

    stage.write_config(
        stage__cue_sheet=str(sheet), stage__mode="record", sync__guide_folder=str(guides)
    )
    with RunningService(stage) as svc:
        svc.wait_ready()
        svc.wait_until(lambda s: not s["audio"], 30, "the feed's end")
        rows = svc.wait_until(
            lambda s: (
                (r := list(csv.DictReader(io.StringIO(svc.cli("report").stdout))))
                and len(r) == 2
                and all(x["sync"] for x in r)
                and r
            ),
            30,
            "the sync verdicts",
        )
        takes = json.loads(svc.cli("takes", "--json").stdout)
        last = svc.call("status")["last_take"]
        shown = svc.cli("status").stdout
    assert last["take"] == 2 and last["sync"] == rows[1]["sync"]
    assert f"sync: {rows[1]['sync']}" in shown
    assert [r["file"] for r in rows] == ["101_T001.wav", "101_T002.wav"]
    assert rows[0]["sync"] == "in sync (100%, +0.0 fr)"
    assert not rows[1]["sync"].startswith(("in sync", "cannot judge")), rows[1]["sync"]
    for row, take in zip(rows, takes, strict=True):
        assert take["sync"] == row["sync"]
        note = read_take_metadata(stage.takes / row["file"]).note
        assert note == f"sync: {row['sync']}"


def test_feed_with_the_same_line_late_on_a_pass():
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([CUE_101], passes=2, same_line=True, late=(0.0, 0.12), preroll=1.0)
    audio = feed.render_all()[:, feed.mic_channel]
    line = feed.guide_line("101")
    late = round(0.12 * feed.sample_rate)
    for p, shift in zip(feed.passes, (0, late), strict=True):
        a = p.tc_in_sample("101") + shift
        said = audio[a : a + len(line)]
        # The line, to the sample, over the room noise (-70 dBFS RMS).
        assert np.max(np.abs(said - line)) < 0.003
        assert np.max(np.abs(line)) > 0.1


def test_demo_shows_each_takes_sync(tmp_path):
    import subprocess
    import sys

    sheet = tmp_path / "two.csv"
    sheet.write_text(
        "# rate: 25\nCue,Character,TC In,TC Out,Dialogue\n"
        "201,JOHN,01:00:10:00,01:00:12:12,Mary? Are you in there?\n"
        "202,MARY,01:00:20:00,01:00:22:00,Go away.\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stagebox",
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--passes",
            "3",
            "--cues",
            str(sheet),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {
        line.split()[0]: line
        for line in result.stdout.splitlines()
        if line.split() and line.split()[0].endswith(".wav")
    }

    def verdict(name):
        m = re.search(r"sync: (.+?) \((\d+)%, ([+-]\d+\.\d) fr\)", lines[name])
        return m.group(1), int(m.group(2)), m.group(3)

    assert verdict("201_T001.wav") == ("in sync", 100, "+0.0")
    kind, score, offset = verdict("201_T002.wav")  # three frames late
    assert (kind, offset) == ("out of sync", "+3.0") and score < 20
    assert verdict("202_T002.wav")[0] == "in sync"
    kind, score, offset = verdict("202_T003.wav")  # two frames late
    assert (kind, offset) == ("out of sync", "+2.0") and score < 20
    assert "all exact" in result.stdout
    # Scored against the live guide channel, kept beside each take; no guide folder at all.
    demo = tmp_path / "demo"
    assert not (demo / "guides").exists()
    for name in lines:
        guide = demo / name.replace(".wav", ".guide.wav")
        if name.startswith("RT-"):  # the demo's room tone: no guide, no score, by design
            assert not guide.exists() and "sync:" not in lines[name]
            continue
        assert (
            read_take_metadata(guide).time_reference
            == read_take_metadata(demo / name).time_reference
        )
