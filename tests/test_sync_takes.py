"""The sync verdict kept with the take: the take log's sync event, the report's sync column,
the iXML NOTE, and the scorer thread that scores finished take files."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
import sync_corpus as corpus

from stagebox.sync.guide import guide_take_path
from stagebox.sync.takefile import SyncScorer, score_take_file
from stagebox.takes.bwf import TakeFile, TakeFormat, read_take_metadata, update_take_metadata
from stagebox.takes.log import TakeLog, TakeRecord
from stagebox.takes.meta import TakeMetadata
from stagebox.timecode import RATE_25, Timecode

R = corpus.RATE
TC_10H = 36000 * R


def write_bwf(path, samples, scene="117", take="3"):
    meta = TakeMetadata(project="Nightfall", scene=scene, take=take, rate=RATE_25)
    f = TakeFile(path, TakeFormat(R, 1, 24), meta.with_file_facts(time_reference=TC_10H))
    f.write(np.asarray(samples, dtype=np.float32).reshape(-1, 1))
    return f.close()


def record(cue="117", take=3, **kw):
    values = dict(
        cue=cue,
        take=take,
        file=f"{cue}_T{take:03d}.wav",
        tc_in=Timecode.parse("10:00:00:00", RATE_25),
        tc_out=Timecode.parse("10:00:06:00", RATE_25),
        sample_rate=R,
        frames=6 * R,
    )
    values.update(kw)
    return TakeRecord(**values)


def test_sync_verdict_in_the_log_report_and_note(tmp_path):
    changed = []
    takes = TakeLog(tmp_path, on_change=changed.append)
    takes.record_take(record(flags=("late pickup",)))
    takes.note("117", 3, "good read")
    takes.set_sync("117", 3, "check words at 10:00:03:01 'trust' +3.0 fr (88%)")
    assert changed[-1].sync.startswith("check words")
    assert changed[-1].full_note == (
        "late pickup; sync: check words at 10:00:03:01 'trust' +3.0 fr (88%); good read"
    )
    out = tmp_path / "report.csv"
    takes.report_csv(out)
    with open(out, newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert row["sync"] == "check words at 10:00:03:01 'trust' +3.0 fr (88%)"
    assert row["note"] == "late pickup; good read"
    takes.close()
    again = TakeLog(tmp_path)  # the verdict survives a restart (read back from the log)
    assert again.get("117", 3).sync.startswith("check words") and again.warnings == []


def test_scorer_thread_scores_a_finished_take_into_its_note(tmp_path):
    assert corpus.espeak_available(), "espeak-ng is missing: run .ci/setup (Debian espeak-ng)"
    guide = corpus.guide_line("en+m3", 175)
    late = corpus.take_line(guide, "en+m3", 175, [0.0] * 4 + [0.12] + [0.0] * 4)
    take_path = write_bwf(tmp_path / "117_T003.wav", corpus.room(late.audio, 1))
    write_bwf(guide_take_path(take_path), 0.5 * guide.audio)
    on_time = write_bwf(tmp_path / "117_T004.wav", corpus.room(guide.audio, 2), take="4")
    write_bwf(guide_take_path(on_time), 0.5 * guide.audio, take="4")
    no_guide = write_bwf(tmp_path / "117_T005.wav", corpus.room(guide.audio, 3), take="5")

    takes = TakeLog(tmp_path)
    for n in (3, 4, 5):
        takes.record_take(record(take=n))
    done = threading.Event()
    reports = {}

    def keep(key, report):
        cue, take = key
        record = takes.set_sync(cue, take, report.message)
        update_take_metadata(tmp_path / record.file, note=record.full_note)
        reports[take] = report
        if len(reports) == 3:
            done.set()

    scorer = SyncScorer(keep).start()
    for n, path in ((3, take_path), (4, on_time), (5, no_guide)):
        scorer.submit(("117", n), path)
    assert done.wait(60)
    scorer.stop()
    assert reports[3].verdict == "check words" and reports[4].verdict == "in sync"
    assert reports[5].message == "cannot judge: no guide"
    note = read_take_metadata(take_path).note
    assert note.startswith("sync: check words at 10:00:") and "+3.0 fr" in note
    assert read_take_metadata(on_time).note.startswith("sync: in sync")


def test_score_take_file_of_a_plain_wav_needs_a_rate(tmp_path):
    import wave

    path = tmp_path / "plain.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(R)
        w.writeframes(b"\0\0" * R)
    report = score_take_file(path)
    assert not report.judged and "plain.wav has no timecode rate" in report.reason
    assert score_take_file(path, rate=RATE_25).reason == "no guide"


def test_scorer_survives_an_unreadable_take(tmp_path):
    got = []
    done = threading.Event()
    scorer = SyncScorer(lambda key, report: (got.append((key, report)), done.set())).start()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nope")
    scorer.submit("bad", bad)
    assert done.wait(10)
    scorer.stop()
    key, report = got[0]
    assert key == "bad" and not report.judged and "bad.wav" in report.reason


@pytest.mark.parametrize("text", ["in sync (97%, +0.1 fr)"])
def test_sync_set_while_recording_is_kept_by_the_outcome(tmp_path, text):
    takes = TakeLog(tmp_path)
    takes.record_take(record(state="recording"))
    takes.set_sync("117", 3, text)
    takes.record_take(record())
    assert takes.get("117", 3).sync == text


def test_latest_take_gets_its_verdict_but_an_older_one_does_not_become_latest(tmp_path):
    takes = TakeLog(tmp_path)
    takes.record_take(record(take=3))
    takes.set_sync("117", 3, "in sync (97%, +0.1 fr)")
    assert takes.latest.take == 3 and takes.latest.sync == "in sync (97%, +0.1 fr)"
    takes.record_take(record(take=4, state="recording"))
    takes.set_sync("117", 3, "out of sync (10%, +2.9 fr)")  # a late verdict for take 3
    assert takes.latest.take == 4


def test_monitor_and_status_show_the_last_takes_sync():
    from stagebox.cli.show import status_lines
    from stagebox.monitor.render import render

    last = {
        "cue": "117",
        "take": 3,
        "file": "117_T003.wav",
        "state": "complete",
        "reason": "",
        "frames": 1,
        "sync": "out of sync (12%, +3.0 fr)",
    }
    status = {"last_take": last, "mode": "record", "lock": "locked"}
    lines = "\n".join(render(status, 140, 40))
    assert "last take 117 T3 complete" in lines and "sync: out of sync (12%, +3.0 fr)" in lines
    coloured = "\n".join(render(status, 140, 40, colour=True))
    assert "\x1b[31m" in coloured.split("sync: out of sync")[0][-12:]  # red, like a fault
    text = "\n".join(status_lines(status))
    assert "cue 117 take 3 complete; sync: out of sync (12%, +3.0 fr)" in text
