"""The take log and take names: numbering across restarts, torn lines, circling, the report."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagebox.takes.log import LOG_NAME, TakeLog, TakeLogError, TakeRecord
from stagebox.takes.names import TakeNameError, format_take_name, take_name_pattern
from stagebox.timecode import RATE_25, Timecode


def record(cue="101", take=1, **kw) -> TakeRecord:
    values = dict(
        cue=cue,
        take=take,
        file=f"{cue}_T{take:03d}.wav",
        tc_in=Timecode.parse("01:00:10:00", RATE_25),
        tc_out=Timecode.parse("01:00:13:05", RATE_25),
        sample_rate=48000,
        frames=153600,  # 3.2 s at 48 kHz
        character="JOHN",
        started="2026-11-21T21:30:00+00:00",
    )
    values.update(kw)
    return TakeRecord(**values)


# -- names ------------------------------------------------------------------------------------


def test_default_template():
    assert format_take_name(cue="101", take=3) == "101_T003.wav"
    assert format_take_name(cue="101", take=1234) == "101_T1234.wav"


def test_all_fields_and_padding():
    name = format_take_name(
        "<project>_<date>-<time>_<character>_<cue:04>-<take:2>.wav",
        cue="7",
        take=4,
        character="Mrs. Hudson",
        project="Night Train",
        date=dt.date(2026, 11, 21),
        time=dt.time(21, 5, 9),
    )
    assert name == "Night_Train_20261121-210509_Mrs._Hudson_0007-04.wav"


def test_field_values_cannot_escape_the_folder():
    name = format_take_name(
        "<character>_<cue>_<take>.wav", cue="../../etc", take=1, character="a/b\x07c"
    )
    assert "/" not in name and ".." not in name and "\x07" not in name
    assert name == "a_b_c_._._etc_1.wav"
    assert format_take_name("<cue>_<take>.wav", cue="..", take=2) == "_2.wav"


@pytest.mark.parametrize(
    "template, problem",
    [
        ("<cue>_<tak>.wav", "unknown field <tak>"),
        ("<cue>.wav", "no <take> field"),
        ("<cue>_<take:x3>.wav", "bad spec 'x3'"),
        ("<cue>_<take:00>.wav", "bad spec '00'"),
        ("<cue>_<take:0x>.wav", "bad spec '0x'"),
        ("<character:03>_<take>.wav", "<character> takes no format spec"),
        ("takes/<cue>_<take>.wav", "path separators"),
        ("<cue>_<take>", "must end in .wav"),
        ("<cue>_<take.wav", "unbalanced"),
    ],
)
def test_bad_templates_name_the_template_and_problem(template, problem):
    with pytest.raises(TakeNameError) as err:
        format_take_name(template, cue="1", take=1)
    assert repr(template) in str(err.value)
    assert problem in str(err.value)


@settings(max_examples=200, deadline=None)
@given(cue=st.text(max_size=20), take=st.integers(1, 99999), character=st.text(max_size=20))
def test_any_cue_and_character_give_a_safe_name_that_scans_back(cue, take, character):
    template = "<character>_<cue>_T<take:03>.wav"
    name = format_take_name(template, cue=cue, take=take, character=character)
    assert "/" not in name and "\x00" not in name and ".." not in name
    assert not name.startswith(".")
    match = take_name_pattern(template, cue).fullmatch(name)
    assert match is not None and int(match.group(1)) == take


# -- numbering --------------------------------------------------------------------------------


def test_numbers_go_up_per_cue(tmp_path):
    takes = TakeLog(tmp_path)
    assert [takes.next_take("101") for _ in range(3)] == [1, 2, 3]
    assert takes.next_take("102") == 1
    assert takes.upcoming_take("101") == 4
    assert takes.upcoming_take("101") == 4  # peeking reserves nothing


def test_numbers_survive_a_restart(tmp_path):
    TakeLog(tmp_path).next_take("101")
    TakeLog(tmp_path).next_take("101")
    assert TakeLog(tmp_path).next_take("101") == 3


def test_files_left_in_the_folder_count_even_if_the_log_is_gone(tmp_path):
    (tmp_path / "101_T007.wav").write_bytes(b"RIFF")
    (tmp_path / "1010_T009.wav").write_bytes(b"RIFF")  # another cue: must not count
    (tmp_path / "101_T008.wav.partial").write_bytes(b"")  # not a take name
    assert TakeLog(tmp_path).next_take("101") == 8


def test_deleted_files_do_not_bring_numbers_back(tmp_path):
    takes = TakeLog(tmp_path)
    for _ in range(5):
        take = takes.next_take("12A")
        (tmp_path / takes.take_name("12A", take)).write_bytes(b"RIFF")
    for f in tmp_path.glob("*.wav"):
        f.unlink()
    assert TakeLog(tmp_path).next_take("12a") == 6  # cue numbers compare case-insensitively


def test_lost_last_line_and_surviving_file(tmp_path):
    takes = TakeLog(tmp_path)
    takes.next_take("101")
    take = takes.next_take("101")
    (tmp_path / takes.take_name("101", take)).write_bytes(b"RIFF")
    log_path = tmp_path / LOG_NAME
    lines = log_path.read_text().splitlines(keepends=True)
    log_path.write_text("".join(lines[:-1]))  # the reservation of take 2 never hit the disk
    assert TakeLog(tmp_path).next_take("101") == 3


def test_torn_last_line_is_skipped_with_a_warning_and_appending_continues(tmp_path, caplog):
    takes = TakeLog(tmp_path)
    takes.next_take("101")
    takes.record_take(record(take=1))
    with open(tmp_path / LOG_NAME, "a") as f:
        f.write('{"event":"take","cue":"101","take":2,"fi')  # power cut mid-write
    again = TakeLog(tmp_path)
    assert len(again.warnings) == 1
    assert "line 3: torn last line" in again.warnings[0]
    assert any("torn last line" in r.message for r in caplog.records)
    assert [r.take for r in again.takes("101")] == [1]
    again.circle("101", 1)
    # The torn line is kept (never rewritten) and the new event sits on a line of its own.
    third = TakeLog(tmp_path)
    assert third.takes("101")[0].circled is True
    lines = (tmp_path / LOG_NAME).read_text().splitlines()
    assert lines[2].endswith('"fi')
    assert json.loads(lines[3])["event"] == "circle"


# -- events -----------------------------------------------------------------------------------


def test_record_circle_note_persist_and_call_on_change(tmp_path):
    changed: list[TakeRecord] = []
    takes = TakeLog(tmp_path, on_change=changed.append)
    takes.next_take("101")
    takes.record_take(record(take=1, flags=("late pickup",)))
    takes.circle("101", 1)
    takes.note("101", 1, "director's favourite")
    assert [(r.circled, r.note) for r in changed] == [(True, ""), (True, "director's favourite")]

    again = TakeLog(tmp_path).takes("101")[0]
    assert again.circled is True
    assert again.note == "director's favourite"
    assert again.flags == ("late pickup",)
    assert again.full_note == "late pickup; director's favourite"
    assert again.tc_in == "01:00:10:00" and again.rate == "25"
    assert again.timecodes()[1] == Timecode.parse("01:00:13:05", RATE_25)

    takes.circle("101", 1, circled=False)
    assert TakeLog(tmp_path).get("101", 1).circled is False


def test_a_take_cannot_be_logged_twice_and_unknown_takes_are_named(tmp_path):
    takes = TakeLog(tmp_path)
    takes.record_take(record(take=1))
    with pytest.raises(TakeLogError, match="already logged"):
        takes.record_take(record(take=1))
    with pytest.raises(TakeLogError, match="no take 5 of cue 101.*takes: 1"):
        takes.circle("101", 5)


def test_bad_template_fails_when_the_log_is_opened(tmp_path):
    with pytest.raises(TakeNameError):
        TakeLog(tmp_path, template="<cue>.wav")


# -- report -----------------------------------------------------------------------------------


def test_report_csv_reads_back(tmp_path):
    takes = TakeLog(tmp_path)
    takes.record_take(record("101", 1))
    takes.record_take(record("101", 2, frames=96000, flags=("LTC lost",)))
    takes.record_take(record("102", 1, character="MARY", file="102_T001.wav"))
    takes.circle("101", 2)
    takes.note("101", 2, "use this, tail clipped")
    out = tmp_path / "report.csv"
    assert takes.report_csv(out) == 3

    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["cue"], r["take"]) for r in rows] == [("101", "1"), ("101", "2"), ("102", "1")]
    second = rows[1]
    assert second["file"] == "101_T002.wav"
    assert (second["tc_in"], second["tc_out"]) == ("01:00:10:00", "01:00:13:05")
    assert second["circled"] == "yes" and rows[0]["circled"] == "no"
    assert second["note"] == "LTC lost; use this, tail clipped"
    assert second["duration"] == "2.000"
    assert second["date"] == "2026-11-21"
    assert rows[2]["character"] == "MARY"
    assert not list(tmp_path.glob(".report.csv.tmp"))
