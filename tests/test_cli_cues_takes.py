"""`stagebox cues check` and `stagebox takes list|report` through the real CLI entry point."""

from __future__ import annotations

import csv
import io

from stagebox.cli import main
from stagebox.takes.log import TakeLog, TakeRecord


def test_cues_check_lists_the_demo_sheet(capsys):
    from importlib.resources import files

    path = str(files("stagebox") / "data" / "example_cues.csv")
    assert main(["cues", "check", path]) == 0
    out = capsys.readouterr().out
    assert "6 cues at 25 fps" in out
    assert "01:00:10:00" in out and "DETECTIVE HALE" in out


def test_cues_check_prints_every_problem_and_exits_2(tmp_path, capsys):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("Cue,In,Out\n1,01:00:05:00,01:00:02:00\n2,01:00:09:00,nope\n")
    assert main(["cues", "check", str(sheet), "--rate", "25"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "bad.csv line 2: TC-out 01:00:02:00 is before TC-in 01:00:05:00"
    assert err[1].startswith("bad.csv line 3: TC-out 'nope' is not a timecode")
    assert err[2] == "stagebox: bad.csv: not loaded (2 problems)"


def test_cues_check_rejects_a_bad_rate(tmp_path, capsys):
    assert main(["cues", "check", str(tmp_path / "x.csv"), "--rate", "26"]) == 2
    assert "--rate" in capsys.readouterr().err


def test_takes_report_and_list(tmp_path, capsys):
    log = TakeLog(tmp_path)
    for take in (1, 2):
        log.next_take("101")
        log.record_take(
            TakeRecord(
                "101", take, f"101_T00{take}.wav", "01:00:10:00", "01:00:13:05", 48000, 48000
            )
        )
    log.circle("101", 2)
    log.close()

    assert main(["takes", "report", str(tmp_path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["take"], r["circled"]) for r in rows] == [("1", "no"), ("2", "yes")]

    assert main(["takes", "list", str(tmp_path), "--circled"]) == 0
    out = capsys.readouterr().out
    assert "101_T002.wav" in out and "101_T001.wav" not in out


def test_takes_without_a_log(tmp_path, capsys):
    assert main(["takes", "list", str(tmp_path)]) == 2
    assert "no take log" in capsys.readouterr().err
