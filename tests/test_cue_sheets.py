"""Cue sheet importers (CSV/TSV/semicolon, VSLink, Pro Tools session text) and their errors.

Every sheet is written here as an ADR editor's tool would write it; expected values are read off
the sheet text by hand, never produced by the code under test.
"""

from __future__ import annotations

import codecs
import json

import pytest

from stagebox.cues import Cue, CueSheet, CueSheetError, load_cue_sheet
from stagebox.timecode import RATE_24, RATE_25, RATE_30, RATE_2997DF, Timecode, TimecodeError


def tc(text: str, rate=RATE_25) -> Timecode:
    return Timecode.parse(text, rate)


def write(tmp_path, name: str, text: str, *, encoding="utf-8", bom=b"") -> str:
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return str(path)


# -- CSV, TSV, semicolons ---------------------------------------------------------------------

ALIAS_CSV = (
    "Cue #,Reel,Scene,Role,Talent,Record In,Record Out,Line,Comment,,\r\n"
    '101,1,4,JOHN,Tom Reyes,01:00:10:00,01:00:13:05,"Mary? Mary, are you\r\nin there?",'
    "off-mic,,\r\n"
    "\r\n"
    '102,1,4,MARY,Ana Lindqvist,01:00:19:10,01:00:22:00,"She said ""no"".",,,\r\n'
)


def test_csv_with_aliases_bom_crlf_multiline_quotes_and_trailing_columns(tmp_path):
    path = write(tmp_path, "reel1.csv", ALIAS_CSV, bom=codecs.BOM_UTF8)
    sheet = load_cue_sheet(path, RATE_25)
    assert sheet.source_format == "csv"
    assert [c.number for c in sheet] == ["101", "102"]
    first = sheet.get("101")
    assert first.tc_in == tc("01:00:10:00")
    assert first.tc_out == tc("01:00:13:05")
    assert first.character == "JOHN"
    assert first.actor == "Tom Reyes"
    assert first.dialogue == "Mary? Mary, are you\nin there?"
    assert first.notes == "off-mic"
    assert (first.reel, first.scene) == ("1", "4")
    assert sheet.get("102").dialogue == 'She said "no".'


def test_tab_separated_sheet(tmp_path):
    text = (
        "QN\tCharacter\tTC In\tTC Out\tDialogue\n"
        "7A\tHALE\t01:02:03:04\t01:02:05:00\tOpen the door; now.\n"
        "7B\tHALE\t01:02:09:00\t01:02:11:10\tI said, now\n"
    )
    sheet = load_cue_sheet(write(tmp_path, "hale.txt", text), RATE_25)
    assert [c.number for c in sheet] == ["7A", "7B"]
    assert sheet.get("7a").dialogue == "Open the door; now."
    assert sheet.get("7B").tc_out == tc("01:02:11:10")


def test_semicolon_sheet_from_european_excel(tmp_path):
    text = (
        "Number;Start;End;Char;Text;Notes\n"
        "1;10:00:01:00;10:00:03:00;ANNA;Ja, natürlich, sofort.;\n"
        "2;10:00:08:12;10:00:10:00;PETER;Wo warst du?;leiser\n"
    )
    sheet = load_cue_sheet(write(tmp_path, "sheet.csv", text), RATE_24)
    assert sheet.rate == RATE_24
    assert sheet.get("1").dialogue == "Ja, natürlich, sofort."
    assert sheet.get("2").notes == "leiser"
    assert sheet.get("2").tc_in == tc("10:00:08:12", RATE_24)


def test_rate_from_comment_line_and_from_rate_column(tmp_path):
    commented = "# rate: 24\nCue,In,Out\n1,01:00:00:23,01:00:01:00\n"
    assert load_cue_sheet(write(tmp_path, "a.csv", commented)).rate == RATE_24
    column = "Cue,In,Out,FPS\n1,01:00:00:29,01:00:01:00,30\n2,01:00:02:00,01:00:03:00,30\n"
    assert load_cue_sheet(write(tmp_path, "b.csv", column)).rate == RATE_30


def test_drop_frame_separator_means_2997df(tmp_path):
    text = "Cue,In,Out\n1,01:00:59;29,01:01:00;02\n"
    sheet = load_cue_sheet(write(tmp_path, "df.csv", text))
    assert sheet.rate == RATE_2997DF
    assert sheet.get("1").duration_frames == 1  # ;00 and ;01 of minute 1 do not exist


def test_configured_rate_wins_over_the_file_with_a_warning(tmp_path):
    text = "# rate: 24\nCue,In,Out\n1,01:00:00:20,01:00:01:00\n"
    sheet = load_cue_sheet(write(tmp_path, "a.csv", text), RATE_25)
    assert sheet.rate == RATE_25
    assert any("24" in w and "25" in w for w in sheet.warnings)


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    text = "Cue,In,Out,Loop Group,Edit\n1,01:00:00:00,01:00:01:00,yes,x\n"
    sheet = load_cue_sheet(write(tmp_path, "a.csv", text), RATE_25)
    assert len(sheet) == 1
    assert any("Loop Group" in w and "Edit" in w for w in sheet.warnings)


# -- VSLink -----------------------------------------------------------------------------------

VSLINK = (
    "Edit\tRecord Time In\tRecord Time Out\tCharacter\tComment\n"
    "1\t01:00:10:00\t01:00:12:10\tJOHN\tWhere were you?\n"
    "2\t01:00:15:00\t01:00:18:00\tMARY\tOut. Just out.\n"
    "3\t01:00:22:05\t01:00:24:00\tJOHN\t(breath) Fine.\n"
)


def test_vslink_list_edit_is_the_cue_number_and_comment_the_line(tmp_path):
    sheet = load_cue_sheet(write(tmp_path, "adr.txt", VSLINK), RATE_25)
    assert sheet.source_format == "vslink"
    assert [c.number for c in sheet] == ["1", "2", "3"]
    cue = sheet.get("2")
    assert cue.tc_in == tc("01:00:15:00")
    assert cue.tc_out == tc("01:00:18:00")
    assert cue.character == "MARY"
    assert cue.dialogue == "Out. Just out."


def test_vslink_with_a_dialogue_column_keeps_comment_as_note(tmp_path):
    text = (
        "Edit\tRecord Time In\tRecord Time Out\tCharacter\tDialogue\tComment\n"
        "12\t01:00:10:00\t01:00:12:10\tJOHN\tWhere were you?\tplane\n"
    )
    cue = load_cue_sheet(write(tmp_path, "adr.txt", text), RATE_25).get("12")
    assert (cue.dialogue, cue.notes) == ("Where were you?", "plane")


def test_edit_column_is_not_tc_in_in_a_generic_sheet(tmp_path):
    text = "Cue,Edit,Out\n1,01:00:00:00,01:00:01:00\n"
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, "a.csv", text), RATE_25)
    assert "no TC-in column" in str(err.value)


# -- Pro Tools session text -------------------------------------------------------------------

PT_HEADER = (
    "SESSION NAME:\tReel 1 ADR\n"
    "SAMPLE RATE:\t48000.000000\n"
    "BIT DEPTH:\t24-bit\n"
    "SESSION START TIMECODE:\t00:59:50:00\n"
    "TIMECODE FORMAT:\t{fmt}\n"
    "# OF AUDIO TRACKS:\t2\n"
    "# OF AUDIO CLIPS:\t0\n"
    "# OF AUDIO FILES:\t0\n"
    "\n\n"
    "O N L I N E  F I L E S  I N  S E S S I O N\n"
    "Filename\tLocation\n"
    "\n\n"
)

PT_2020 = PT_HEADER.format(fmt="25 Frame") + (
    "M A R K E R S  L I S T I N G\n"
    "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME                             "
    "\tCOMMENTS\n"
    "1   \t01:00:00:00  \t480000            \tSamples  \tReel 1 start                     \t\n"
    "2   \t01:00:10:00  \t960000            \tSamples  \t101 JOHN                         "
    "\tOUT 01:00:13:05 Mary? Mary, are you in there?\n"
    "3   \t01:00:19:10  \t1404800           \tSamples  \t102 | MARY | Don't come in. | door "
    "\t\n"
    "4   \t01:00:31:00  \t1968000           \tSamples  \t103 JOHN: The car's outside.     "
    "\tplane overhead\n"
    "5   \t01:00:33:00  \t2064000           \tSamples  \t104 MARY                         "
    "\tThen let it\n"
    "    \t             \t                  \t         \t                                 "
    "\twait.\n"
    "6   \t01:00:42:08.40\t2515200          \tSamples  \t105 HALE\nsecond line of name\t\n"
)


def test_protools_markers_become_cues(tmp_path):
    sheet = load_cue_sheet(write(tmp_path, "Reel 1 ADR.txt", PT_2020))
    assert sheet.source_format == "protools"
    assert sheet.rate == RATE_25  # from TIMECODE FORMAT
    assert [c.number for c in sheet] == ["101", "102", "103", "104", "105"]
    # The "Reel 1 start" marker is not a cue: skipped, with a warning naming it.
    assert any("Reel 1 start" in w for w in sheet.warnings)

    c101 = sheet.get("101")
    assert (c101.character, c101.dialogue) == ("JOHN", "Mary? Mary, are you in there?")
    assert (c101.tc_in, c101.tc_out) == (tc("01:00:10:00"), tc("01:00:13:05"))

    c102 = sheet.get("102")
    assert (c102.character, c102.dialogue, c102.notes) == ("MARY", "Don't come in.", "door")
    assert c102.tc_out == tc("01:00:23:10")  # default 4 s: the next marker is later

    c103 = sheet.get("103")
    assert (c103.character, c103.dialogue, c103.notes) == (
        "JOHN",
        "The car's outside.",
        "plane overhead",
    )
    assert c103.tc_out == tc("01:00:33:00")  # cut short at the next cue marker (104)

    c104 = sheet.get("104")
    assert c104.dialogue == "Then let it\nwait."  # comment continued on the next line

    c105 = sheet.get("105")
    assert c105.tc_in == tc("01:00:42:08")  # sub-frames dropped
    assert c105.character == "HALE second line of name"  # name ran onto a new line


def test_protools_2023_track_marker_columns(tmp_path):
    text = PT_HEADER.format(fmt="24 Frame") + (
        "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME                             "
        "\tTRACK NAME                       \tTRACK TYPE   \tCOMMENTS\n"
        "1   \t01:00:00:00  \t480000            \tSamples  \t1 JOHN: Hello?                   "
        "\tMarkers                          \tRuler                            \tOUT 01:00:02:00\n"
        "2   \t01:00:05:00  \t720000            \tSamples  \t2 MARY                           "
        "\tDIA                              \tTrack                            \tHi.\n"
    )
    sheet = load_cue_sheet(write(tmp_path, "pt2023.txt", text))
    assert sheet.rate == RATE_24
    assert sheet.get("1").dialogue == "Hello?"
    assert sheet.get("1").tc_out == tc("01:00:02:00", RATE_24)
    assert (sheet.get("2").character, sheet.get("2").dialogue) == ("MARY", "Hi.")
    assert sheet.get("2").tc_out == tc("01:00:09:00", RATE_24)


def test_protools_drop_frame_session(tmp_path):
    text = PT_HEADER.format(fmt="29.97 Drop Frame") + (
        "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME    \tCOMMENTS\n"
        "1   \t01:00:59;28  \t1\tSamples  \t7 JOHN\tOUT 01:01:00;03\n"
    )
    cue = load_cue_sheet(write(tmp_path, "df.txt", text)).get("7")
    assert cue.tc_in.rate == RATE_2997DF
    assert cue.duration_frames == 3  # ;28 ;29 then 01:01:00;02 (;00 and ;01 dropped)


def test_protools_marker_located_in_samples_when_counter_was_not_timecode(tmp_path):
    # Main counter in Min:Secs: LOCATION is not a timecode; the TIME REFERENCE in samples,
    # counted from the session start (00:59:50:00), places the marker. 10 s + 12 frames at
    # 25 fps and 48 kHz = 480000 + 12 * 1920 = 503040 samples -> 01:00:00:12.
    text = PT_HEADER.format(fmt="25 Frame") + (
        "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME    \tCOMMENTS\n"
        "1   \t0:10.480     \t503040            \tSamples  \t9 JOHN\tOUT 01:00:02:00\n"
    )
    cue = load_cue_sheet(write(tmp_path, "minsecs.txt", text)).get("9")
    assert cue.tc_in == tc("01:00:00:12")


def test_protools_without_markers_section(tmp_path):
    text = PT_HEADER.format(fmt="25 Frame")
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, "nomarkers.txt", text))
    assert "M A R K E R S" in str(err.value)
    assert err.value.line is None


def test_protools_bad_out_time_has_the_marker_line(tmp_path):
    text = PT_2020.replace("OUT 01:00:13:05", "OUT 01:00:09:00")
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, "bad.txt", text))
    line = text.splitlines().index(next(ln for ln in text.splitlines() if ln.startswith("2   \t")))
    assert err.value.line == line + 1
    assert "TC-out 01:00:09:00 is before TC-in 01:00:10:00" in str(err.value)


# -- errors, each with its line ----------------------------------------------------------------


def load_error(tmp_path, text, rate=RATE_25, name="cues.csv") -> CueSheetError:
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, name, text), rate)
    return err.value


HEAD = "Cue,Character,TC In,TC Out,Dialogue\n"


def test_tc_out_before_tc_in_names_file_and_line(tmp_path):
    text = (
        "# rate: 25\n"
        + HEAD
        + "1,A,01:00:00:00,01:00:01:00,x\n"
        + "\n"
        + "2,A,01:00:05:00,01:00:02:00,y\n"
    )
    err = load_error(tmp_path, text, None)
    assert str(err) == "cues.csv line 5: TC-out 01:00:02:00 is before TC-in 01:00:05:00"
    assert err.line == 5
    assert err.path.name == "cues.csv"


def test_tc_out_equal_to_tc_in(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:00:05:00,01:00:05:00,x\n")
    assert err.line == 2
    assert "the same as TC-in" in str(err)


def test_frame_the_rate_does_not_have(tmp_path):
    err = load_error(
        tmp_path, HEAD + "1,A,01:00:05:00,01:00:06:00,x\n2,A,01:00:07:25,01:00:08:00,y\n"
    )
    assert str(err) == (
        "cues.csv line 3: TC-in '01:00:07:25' is not a 25 timecode: frame 25 out of range 0..24"
    )


def test_drop_frame_label_that_does_not_exist(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:01:00;00,01:01:02;00,x\n", RATE_2997DF)
    assert err.line == 2
    assert "drop-frame skips" in str(err)


def test_drop_frame_separator_on_a_non_drop_stage(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:01:00;10,01:01:02;00,x\n", RATE_25)
    assert err.line == 2
    assert "drop-frame" in str(err)


def test_timecode_that_does_not_parse(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:00:00:00,01:00:01:00,x\n2,A,1 hour,01:00:03:00,y\n")
    assert str(err) == "cues.csv line 3: TC-in '1 hour' is not a timecode (expected HH:MM:SS:FF)"


def test_duplicate_cue_numbers_name_both_lines(tmp_path):
    text = HEAD + "101,A,01:00:00:00,01:00:01:00,x\n102,A,01:00:02:00,01:00:03:00,y\n"
    text += "101,B,01:00:04:00,01:00:05:00,z\n"
    err = load_error(tmp_path, text)
    assert str(err) == "cues.csv lines 2 and 4: cue 101 appears twice"


def test_missing_column_names_found_columns_and_aliases(tmp_path):
    err = load_error(tmp_path, "Cue,Character,Start,Dialogue\n1,A,01:00:00:00,x\n")
    msg = str(err)
    assert err.line == 1
    assert "no TC-out column" in msg
    assert "'Cue', 'Character', 'Start', 'Dialogue'" in msg
    assert "Record Out" in msg and "TC Out" in msg


def test_empty_and_blank_files(tmp_path):
    assert "empty" in str(load_error(tmp_path, ""))
    assert "empty" in str(load_error(tmp_path, "\n \r\n\t\n", name="blank.csv"))
    assert "no cues" in str(load_error(tmp_path, HEAD, name="header.csv"))


def test_unreadable_file(tmp_path):
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(tmp_path / "nope.csv", RATE_25)
    assert "cannot read the file" in str(err.value) and "nope.csv" in str(err.value)
    with pytest.raises(CueSheetError):
        load_cue_sheet(tmp_path, RATE_25)  # a directory


def test_wrong_encoding_names_the_line_and_the_fix(tmp_path):
    text = HEAD + "1,ANNA,01:00:00:00,01:00:01:00,x\n2,RENÉE,01:00:02:00,01:00:03:00,y\n"
    path = write(tmp_path, "cp.csv", text, encoding="cp1252")
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(path, RATE_25)
    assert err.value.line == 3
    assert "UTF-8" in str(err.value)
    assert load_cue_sheet(path, RATE_25, encoding="cp1252").get("2").character == "RENÉE"


def test_utf16_with_bom_as_excel_writes_it(tmp_path):
    text = HEAD.replace(",", "\t") + "1\tZOË\t01:00:00:00\t01:00:01:00\tx\n"
    path = tmp_path / "u16.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert load_cue_sheet(path, RATE_25).get("1").character == "ZOË"


def test_rate_unknown_says_where_to_set_it(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:00:00:00,01:00:01:00,x\n", None)
    assert "set `rate`" in str(err) and "# rate: 25" in str(err)


def test_unquoted_delimiter_in_dialogue(tmp_path):
    err = load_error(tmp_path, HEAD + "1,A,01:00:00:00,01:00:01:00,Well, no.\n")
    assert err.line == 2
    assert "quote fields" in str(err)


def test_line_numbers_count_physical_lines_after_a_multiline_field(tmp_path):
    text = HEAD + '1,A,01:00:00:00,01:00:01:00,"one\ntwo\nthree"\n2,A,01:00:09:00,01:00:08:00,y\n'
    err = load_error(tmp_path, text)
    assert err.line == 5


def test_all_problems_are_reported_at_once(tmp_path):
    text = (
        HEAD
        + "1,A,01:00:00:00,01:00:01:00,x\n"
        + "2,A,01:00:03:00,01:00:02:00,y\n"
        + "3,A,01:00:04:99,01:00:05:00,z\n"
        + "1,A,01:00:06:00,01:00:07:00,w\n"
    )
    err = load_error(tmp_path, text)
    assert [p.line for p in err.problems] == [3, 4, 5]
    assert str(err).splitlines()[0] == "cues.csv: 3 problems"
    assert err.messages[2] == "cues.csv lines 2 and 5: cue 1 appears twice"


def test_a_bad_sheet_never_replaces_the_loaded_one(tmp_path):
    good = write(tmp_path, "good.csv", HEAD + "1,A,01:00:00:00,01:00:01:00,x\n")
    sheet = load_cue_sheet(good, RATE_25)
    before = sheet.to_dict()
    (tmp_path / "good.csv").write_text(HEAD + "1,A,01:00:09:00,01:00:01:00,x\n")
    with pytest.raises(CueSheetError):
        sheet = load_cue_sheet(good, RATE_25)
    assert sheet.to_dict() == before  # the stage keeps working from the old list


# -- word timing ------------------------------------------------------------------------------


def test_word_timing_marks(tmp_path):
    text = HEAD + "1,A,01:00:10:00,01:00:13:00,{01:00:10:05}Never {+40}again. Ever.\n"
    cue = load_cue_sheet(write(tmp_path, "w.csv", text), RATE_25).get("1")
    assert cue.dialogue == "Never again. Ever."
    assert cue.words == (("Never", tc("01:00:10:05")), ("again.", tc("01:00:11:15")))


def test_word_timing_errors(tmp_path):
    text = (
        HEAD
        + "1,A,01:00:10:00,01:00:13:00,{01:00:14:00}late\n"
        + "2,A,01:00:20:00,01:00:23:00,{01:00:22:00}b {01:00:21:00}a\n"
        + "3,A,01:00:30:00,01:00:33:00,word {01:00:31:00}\n"
        + "4,A,01:00:40:00,01:00:43:00,{01:00:41:30}x\n"
    )
    err = load_error(tmp_path, text)
    by_line = {p.line: p.message for p in err.problems}
    assert "outside the cue's window" in by_line[2]
    assert "comes before" in by_line[3]
    assert "no word after it" in by_line[4]
    assert "frame 30 out of range" in by_line[5]


# -- the cue list -----------------------------------------------------------------------------


def make_sheet() -> CueSheet:
    def cue(n, a, b):
        return Cue(n, tc(a), tc(b), character="X")

    # Sheet order is not time order; 3 overlaps 2.
    return CueSheet(
        "list.csv",
        RATE_25,
        [
            cue("1", "01:00:00:00", "01:00:02:00"),
            cue("5", "01:00:30:00", "01:00:32:00"),
            cue("2", "01:00:10:00", "01:00:20:00"),
            cue("3", "01:00:12:00", "01:00:14:00"),
        ],
    )


def test_get_index_next_previous():
    sheet = make_sheet()
    assert len(sheet) == 4
    assert [c.number for c in sheet] == ["1", "5", "2", "3"]
    assert sheet.index("2") == 2
    assert sheet.next("1").number == "5"
    assert sheet.next("3") is None
    assert sheet.previous("5").number == "1"
    assert sheet.previous("1") is None
    with pytest.raises(KeyError) as err:
        sheet.get("99")
    assert "no cue '99' in list.csv" in str(err.value)


def test_at_follows_the_timecode():
    sheet = make_sheet()
    assert sheet.at(tc("00:59:59:24")) is None
    assert sheet.at(tc("01:00:00:00")).number == "1"
    assert sheet.at(tc("01:00:01:24")).number == "1"
    assert sheet.at(tc("01:00:02:00")) is None  # TC-out is the first frame after the line
    assert sheet.at(tc("01:00:11:00")).number == "2"
    assert sheet.at(tc("01:00:12:00")).number == "3"  # the cue that started last
    assert sheet.at(tc("01:00:14:00")).number == "2"  # 3 ended, 2 still running
    assert sheet.at(tc("01:00:31:00")).number == "5"
    with pytest.raises(TimecodeError):
        sheet.at(Timecode.parse("01:00:00:00", RATE_24))


def test_to_dict_round_trip_through_json(tmp_path):
    sheet = load_cue_sheet(
        write(tmp_path, "w.csv", HEAD + "1,A,01:00:10:00,01:00:13:00,{+3}Hey you\n"), RATE_25
    )
    again = CueSheet.from_dict(json.loads(json.dumps(sheet.to_dict())))
    assert again.cues == sheet.cues
    assert again.rate == sheet.rate and again.path == sheet.path


def test_example_sheet_for_the_demo():
    from importlib.resources import files

    path = files("stagebox") / "data" / "example_cues.csv"
    sheet = load_cue_sheet(str(path))
    assert sheet.rate == RATE_25 and len(sheet) == 6
    cues = list(sheet)
    assert cues[0].tc_in >= tc("01:00:09:00") and cues[0].tc_in <= tc("01:00:11:00")
    for cue in cues:
        assert 2 * 25 <= cue.duration_frames <= 6 * 25
        assert cue.character and cue.dialogue
    for a, b in zip(cues, cues[1:], strict=False):
        assert 5 * 25 <= b.tc_in - a.tc_out <= 20 * 25


# -- dubbing: the line to record and the original ---------------------------------------------


def test_language_column_is_the_line_to_record_and_dialogue_the_original(tmp_path):
    text = (
        "Cue,In,Out,Character,Dialogue,Dialogue FR\n"
        '101,01:00:10:00,01:00:13:05,JOHN,"Mary? Are you in there?","Marie ? Tu es là ?"\n'
    )
    cue = load_cue_sheet(write(tmp_path, "vf.csv", text), RATE_25).get("101")
    assert (cue.dialogue, cue.original, cue.language) == (
        "Marie ? Tu es là ?",
        "Mary? Are you in there?",
        "FR",
    )
    assert ("ORIGINAL_LINE", "Mary? Are you in there?") in cue.details()
    assert Cue.from_dict(json.loads(json.dumps(cue.to_dict()))) == cue


@pytest.mark.parametrize("header", ["Dialogue (DE)", "DE Dialogue", "Line DE", "dialog_de"])
def test_language_column_spellings(tmp_path, header):
    text = f"Cue,In,Out,Dialogue,{header}\n1,01:00:00:00,01:00:01:00,Hello,Hallo\n"
    cue = load_cue_sheet(write(tmp_path, "s.csv", text), RATE_25).get("1")
    assert (cue.dialogue, cue.original, cue.language) == ("Hallo", "Hello", "DE")


def test_several_languages_need_a_choice(tmp_path):
    text = (
        "Cue,In,Out,Dialogue,Dialogue FR,Dialogue DE\n1,01:00:00:00,01:00:01:00,Hello,Salut,Hallo\n"
    )
    path = write(tmp_path, "s.csv", text)
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(path, RATE_25)
    assert err.value.line == 1
    assert "lines in 2 languages ('Dialogue FR', 'Dialogue DE')" in str(err.value)
    sheet = load_cue_sheet(path, RATE_25, language="de")
    assert (sheet.get("1").dialogue, sheet.get("1").original) == ("Hallo", "Hello")
    assert any("Dialogue FR" in w for w in sheet.warnings)
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(path, RATE_25, language="ES")
    assert "no line in ES" in str(err.value)
