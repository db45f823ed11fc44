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
    assert [r["file"] for r in rows] == ["101_T001.wav", "101_T002.wav"]
    assert rows[0]["sync"] == "in sync (100%, +0.0 fr)"
    assert not rows[1]["sync"].startswith(("in sync", "cannot judge")), rows[1]["sync"]
    for row, take in zip(rows, takes, strict=True):
        assert take["sync"] == row["sync"]
        note = read_take_metadata(stage.takes / row["file"]).note
        assert note == f"sync: {row['sync']}"
