"""The CLI commands that ask the running service, against a real ControlServer on a temp
socket whose dispatcher is a stand-in stage (tests/control_fake.py) recording every call."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stagebox.cli import main
from stagebox.control.server import ControlServer
from stagebox.takes.bwf import TakeFile, TakeFormat, read_take_metadata
from stagebox.takes.meta import TakeMetadata
from stagebox.timecode import RATE_25
from tests.conftest import DATA
from tests.control_fake import EXAMPLE_SHEET, FakeStage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stage(tmp_path, monkeypatch):
    """A fake stage served on a temp socket; $STAGEBOX_SOCKET points elsewhere (nowhere)."""
    fake = FakeStage(tmp_path / "takes")
    path = str(tmp_path / "run" / "control.sock")
    server = ControlServer(path, fake)
    server.start()
    fake.socket = path
    monkeypatch.setenv("STAGEBOX_SOCKET", str(tmp_path / "nothing-here.sock"))
    yield fake
    server.stop()
    fake.log.close()


def run(stage, capsys, *argv):
    """`stagebox ARGV --socket PATH` in-process: (exit status, stdout, stderr)."""
    code = main([*argv, "--socket", stage.socket])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_human_and_json(stage, capsys):
    code, out, err = run(stage, capsys, "status")
    assert code == 0 and err == ""
    fields = {line[:10].strip(): line[11:] for line in out.splitlines()}  # label column
    assert fields["timecode"].split() == ["01:00:11:07", "locked", "25", "fps", "speed", "1.000x"]
    assert fields["mode"] == "rehearse"
    assert fields["cue"].startswith("101  JOHN  01:00:10:00-01:00:13:05 (3.2s)")
    assert '"Mary? Mary, are you in there?"' in fields["cue"]
    h, rest = divmod(45296, 3600)
    assert f"{h}:{rest // 60:02d} left" in out  # disk time as h:mm
    assert "Mic 1 -6.0 dBFS, LTC -20.0 dBFS" in out
    assert "take       3 (next), pass in progress" in out  # takes 1 and 2 of 101 exist
    assert stage.calls == [("status", {})]

    code, out, _ = run(stage, capsys, "status", "--json")
    assert code == 0 and json.loads(out) == stage.do_status()


def test_not_running_is_one_line_with_the_systemctl_hint(tmp_path, capsys):
    nowhere = str(tmp_path / "gone.sock")
    for argv in (["status"], ["takes"], ["take", "circle", "101", "2"], ["monitor", "--once"]):
        assert main([*argv, "--socket", nowhere]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith("stagebox: stagebox is not running")
        assert "start it with: sudo systemctl start stagebox" in err and nowhere in err


def test_socket_from_environment(stage, capsys, monkeypatch):
    monkeypatch.setenv("STAGEBOX_SOCKET", stage.socket)
    assert main(["mode", "safe"]) == 0
    assert capsys.readouterr().out == "mode: safe\n"
    assert stage.mode == "safe" and stage.calls == [("mode", {"mode": "safe"})]


def test_cues_list_marks_the_current_and_next_cue(stage, capsys):
    code, out, _ = run(stage, capsys, "cues", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{stage.sheet.path}: 6 cues"
    header, rows = lines[1], lines[2:]
    assert header.split() == ["CUE", "TC", "IN", "TC", "OUT", "LENGTH", "CHARACTER", "DIALOGUE"]
    assert [r.split()[0] for r in rows[:2]] == [">", "+"]
    assert [r.lstrip(">+ ").split()[0] for r in rows] == [c.number for c in stage.sheet]
    # Columns line up: every TC-in starts where the header's does.
    col = header.index("TC IN")
    assert all(r[col : col + 11] == str(c.tc_in) for r, c in zip(rows, stage.sheet, strict=True))
    assert "3.2s" in rows[0]  # 01:00:10:00 -> 01:00:13:05 at 25 fps: (3 * 25 + 5) / 25 s
    assert [c for c, _ in stage.calls] == ["cues.list", "status"]

    code, out, _ = run(stage, capsys, "cues", "list", "--json")
    assert json.loads(out) == [c.to_dict() for c in stage.sheet]


def test_cues_load_sends_the_full_path(stage, capsys, tmp_path, monkeypatch):
    sheet = tmp_path / "reel2.csv"
    sheet.write_text("Cue,In,Out,Character\n201,02:00:01:00,02:00:03:00,ANNA\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(stage, capsys, "cues", "load", "reel2.csv")
    assert code == 0
    assert stage.calls == [("cues.load", {"path": str(sheet)})]
    assert out == f"{sheet}: 1 cue loaded at 25 fps (csv, utf-8)\n"
    assert [c.number for c in stage.sheet] == ["201"]


def test_cues_load_a_pro_tools_session_with_its_encoding(stage, capsys):
    sheet = DATA / "protools" / "charade_macroman.txt"
    code, out, err = run(stage, capsys, "cues", "load", str(sheet), "--encoding", "mac_roman")
    assert code == 0, err
    assert stage.calls == [("cues.load", {"path": str(sheet), "encoding": "mac_roman"})]
    assert out == f"{sheet}: 41 cues loaded at 25 fps (protools, mac-roman)\n"
    assert stage.sheet.get("P108").dialogue == "… And close these windows after me."
    code, _, err = run(stage, capsys, "cues", "load", str(sheet), "--encoding", "utf-8")
    assert code == 2 and "is not utf-8 text" in err and len(stage.sheet) == 41


def test_cues_load_lists_every_problem_and_keeps_the_old_list(stage, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Cue,In,Out\n1,01:00:05:00,01:00:02:00\n2,01:00:09:00,nope\n")
    code, out, err = run(stage, capsys, "cues", "load", str(bad))
    assert code == 2 and out == ""
    err = err.splitlines()
    assert "bad.csv line 2: TC-out 01:00:02:00 is before TC-in 01:00:05:00" in err
    assert any(e.startswith("bad.csv line 3: TC-out 'nope'") for e in err)
    assert err[-1] == "stagebox: bad.csv: not loaded; the stage keeps the cue list it had"
    assert len(stage.sheet) == 6

    code, _, err = run(stage, capsys, "cues", "load", str(tmp_path / "missing.csv"))
    assert code == 2 and err.strip().endswith("missing.csv: no such file")
    assert [c for c, _ in stage.calls] == ["cues.load"]  # the missing file never left the CLI


def test_cues_load_explains_folders_the_service_cannot_see(stage, capsys, tmp_path):
    # The unit's PrivateTmp= hides pytest's /tmp folder from the service: emulate that.
    sheet = tmp_path / "reel3.csv"
    sheet.write_text("Cue,In,Out\n301,03:00:01:00,03:00:02:00\n")
    assert str(sheet).startswith("/tmp/")
    stage.do_cues_load = lambda path: stage.do_cues_load_real(path + ".hidden")
    code, _, err = run(stage, capsys, "cues", "load", str(sheet))
    lines = err.splitlines()
    assert code == 2 and "reel3.csv.hidden" in lines[0] and "No such file" in lines[0]
    assert lines[-1].startswith("stagebox: reel3.csv: not loaded; the stage keeps the cue list")
    assert "the service cannot see /tmp" in lines[-1] and len(stage.sheet) == 6


def test_cue_selects_by_number_next_and_previous(stage, capsys):
    code, out, _ = run(stage, capsys, "cue", "103")
    assert code == 0 and out.startswith("cue 103  ") and stage.current == 2
    code, out, _ = run(stage, capsys, "cue", "next")
    assert out.startswith("cue 104  ") and stage.current == 3
    code, out, _ = run(stage, capsys, "cue", "previous", "--json")
    assert json.loads(out)["number"] == "103"
    assert [a for _, a in stage.calls] == [
        {"which": "103"},
        {"which": "next"},
        {"which": "previous"},
    ]

    code, out, err = run(stage, capsys, "cue", "999")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("stagebox: no cue '999' in example_cues.csv")


def test_mode_choices_are_checked_before_asking(stage, capsys):
    code, out, _ = run(stage, capsys, "mode", "record")
    assert (code, out, stage.mode) == (0, "mode: record\n", "record")
    with pytest.raises(SystemExit) as exc:
        main(["mode", "recrod", "--socket", stage.socket])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert stage.calls == [("mode", {"mode": "record"})]


def test_takes_table_filter_and_json(stage, capsys):
    stage.log.circle("101", 2)
    code, out, _ = run(stage, capsys, "takes")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["CUE", "TAKE"]
    rows = [line.split() for line in lines[1:]]
    assert [(r[0], r[1]) for r in rows] == [("101", "1"), ("101", "2"), ("102", "1")]
    assert rows[1][2] == "O" and rows[0][2] == "complete"  # only take 2 circled
    assert rows[1][3] == "complete" and rows[0][3] == "01:00:10:00"  # STATE, then TC IN
    assert "3.00s" in lines[1] and "101_T001.wav" in lines[1]

    code, out, _ = run(stage, capsys, "takes", "--cue", "102", "--json")
    assert [(t["cue"], t["take"]) for t in json.loads(out)] == [("102", 1)]
    assert stage.calls[-1] == ("takes", {"cue": "102"})
    assert stage.calls[0] == ("takes", {})

    code, out, _ = run(stage, capsys, "takes", "--cue", "105")
    assert out == "no takes of cue 105\n"


def test_take_circle_uncircle_and_note_ask_the_service(stage, capsys):
    code, out, _ = run(stage, capsys, "take", "circle", "101", "2")
    assert code == 0 and out == "101 take 2: circled  (101_T002.wav)\n"
    assert stage.log.get("101", 2).circled
    code, out, _ = run(stage, capsys, "take", "uncircle", "101", "2")
    assert not stage.log.get("101", 2).circled and "not circled" in out
    code, out, _ = run(stage, capsys, "take", "note", "102", "1", "too fast")
    assert stage.log.get("102", 1).note == "too fast" and "note: too fast" in out
    code, out, _ = run(stage, capsys, "take", "circle", "102", "1", "--note", "use this")
    assert stage.log.get("102", 1).circled and stage.log.get("102", 1).note == "use this"
    assert stage.calls == [
        ("take.circle", {"cue": "101", "take": 2, "circled": True}),
        ("take.circle", {"cue": "101", "take": 2, "circled": False}),
        ("take.note", {"cue": "102", "take": 1, "text": "too fast"}),
        ("take.circle", {"cue": "102", "take": 1, "circled": True}),
        ("take.note", {"cue": "102", "take": 1, "text": "use this"}),
    ]


def test_take_errors_are_one_line(stage, capsys):
    code, _, err = run(stage, capsys, "take", "circle", "101", "9")
    assert code == 2 and err.count("\n") == 1 and "no take 9 of cue 101" in err
    code, _, err = run(stage, capsys, "take", "circle", "101", "two")
    assert code == 2 and err == "stagebox: TAKE must be a take number, not 'two'\n"
    code, _, err = run(stage, capsys, "take", "circle", "101")  # one arg that is not a file
    assert code == 2 and "101: no such take file" in err and "take circle CUE TAKE" in err
    code, _, err = run(stage, capsys, "take", "note", "101", "1", "too", "fast")
    assert code == 2 and "quote a note" in err
    assert [c for c, _ in stage.calls] == ["take.circle"]


def test_take_circle_of_a_file_stays_offline(stage, capsys, tmp_path):
    path = tmp_path / "117_T003.wav"
    meta = TakeMetadata(project="Nightfall", scene="117", take="3", rate=RATE_25)
    take = TakeFile(path, TakeFormat(48000, 1, 24), meta.with_file_facts(time_reference=0))
    take.write(np.zeros((480, 1), dtype=np.float32))
    take.close()
    code, out, _ = run(stage, capsys, "take", "circle", str(path))
    assert code == 0 and out == f"{path}: circled\n" and read_take_metadata(path).circled
    code, out, _ = run(stage, capsys, "take", "note", str(path), "breath at the end")
    assert read_take_metadata(path).note == "breath at the end"
    code, out, _ = run(stage, capsys, "take", "uncircle", str(path))
    assert not read_take_metadata(path).circled
    assert stage.calls == []  # the service was running, and was not asked


def test_report_to_stdout_and_file(stage, capsys, tmp_path):
    code, out, _ = run(stage, capsys, "report")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["cue"], r["take"]) for r in rows] == [
        ("101", "1"),
        ("101", "2"),
        ("102", "1"),
    ]
    target = tmp_path / "report.csv"
    code, out, err = run(stage, capsys, "report", "-o", str(target))
    assert code == 0 and out == "" and err == f"{target}: 3 takes\n"
    assert target.read_bytes().decode("utf-8") == stage.do_report()["csv"]


def test_lights_test_goes_through_the_service_in_safe_mode(stage, capsys):
    code, out, err = run(stage, capsys, "lights", "test")
    assert code == 2 and "needs safe mode" in err and err.count("\n") == 1
    stage.mode = "safe"
    code, out, err = run(stage, capsys, "lights", "test")
    lines = out.splitlines()
    assert code == 0 and "the service cycles its lamps" in lines[0]
    assert lines[1:] == stage.do_lights_test()["steps"]
    code, out, err = run(stage, capsys, "lights", "test", "--backend", "rpigpio")
    assert code == 2 and "owns the GPIO" in err
    assert [c for c, _ in stage.calls] == ["lights.test", "lights.test"]


def test_lights_test_drives_the_pins_when_nothing_answers(tmp_path, capsys):
    nowhere = str(tmp_path / "gone.sock")
    # Off a Pi the rpigpio backend cannot open: what matters is that it was tried, and said.
    assert main(["lights", "test", "--socket", nowhere, "--seconds", "0"]) == 2
    out, err = capsys.readouterr()
    assert out.startswith(f"stagebox is not running (nothing answers at {nowhere}): driving")
    assert "rpigpio" in err
    assert main(["lights", "test", "--backend", "sim", "--socket", nowhere, "--seconds", "0"]) == 0
    assert "all off" in capsys.readouterr().out


def test_offline_takes_commands_still_read_a_folder(stage, capsys):
    assert main(["takes", "list", stage.takes_folder]) == 0
    assert "101_T002.wav" in capsys.readouterr().out
    assert main(["cues", "check", EXAMPLE_SHEET]) == 0
    assert "6 cues at 25 fps" in capsys.readouterr().out
    assert stage.calls == []


def _cli(*argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "stagebox", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=ROOT,
    )


def test_end_to_end_through_python_m_stagebox(stage, tmp_path):
    done = _cli("status", "--socket", stage.socket)
    assert done.returncode == 0 and "01:00:11:07" in done.stdout
    done = _cli("take", "circle", "101", "1", "--socket", stage.socket)
    assert done.returncode == 0 and stage.log.get("101", 1).circled
    done = _cli(
        "monitor",
        "--once",
        "--width",
        "80",
        "--height",
        "24",
        "--color",
        "never",
        "--socket",
        stage.socket,
    )
    assert done.returncode == 0
    assert "TC 01:00:11:07" in done.stdout and "101" in done.stdout and "Mic 1" in done.stdout
    done = _cli("cue", "999", "--socket", stage.socket)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    done = _cli("status", "--socket", str(tmp_path / "gone.sock"))
    assert done.returncode == 2 and "sudo systemctl start stagebox" in done.stderr
