"""Avid Media Composer locator text and CMX3600 EDLs with `* LOC:` locators, and files in no
supported format.

`tests/data/locators/otio_screening_example.edl` is OpenTimelineIO's real EDL sample (see
tests/data/README.md): its locators are picture notes, not cues. The ADR locator lists are
written here the way Media Composer writes them; expected values are read off the text.
"""

from __future__ import annotations

import pytest
from conftest import DATA

from stagebox.cues import CueSheetError, load_cue_sheet
from stagebox.timecode import RATE_24, RATE_25, RATE_30, RATE_2997DF, Timecode


def tc(text: str, rate=RATE_25) -> Timecode:
    return Timecode.parse(text, rate)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


AVID = (
    "Ana Editor\t01:00:10:00\tV1\tred\t101 JOHN: Mary? Are you in there?\t1\n"
    "Ana Editor\t01:00:12:00\tV1\tgreen\tVFX - paint out the boom\t1\n"
    "Ana Editor\t01:00:19:10\tA1\tred\t102 MARY: Don't come in. {R=Off mic}\t64\n"
    "Ana Editor\t01:00:31:00\tV1\tyellow\tOut of breath $QN=103 {Char=JOHN} [EFF]\t1\n"
    "Ana Editor\t01:00:33:00\tV1\tred\t104 MARY: Then let it wait. OUT 01:00:35:12\t1\n"
)


def test_avid_locators_with_cue_comments_are_cues(tmp_path):
    sheet = load_cue_sheet(write(tmp_path, "Reel 1 Markers.txt", AVID), RATE_25)
    assert sheet.source_format == "avid-locators"
    assert [c.number for c in sheet] == ["101", "102", "103", "104"]
    c101 = sheet.get("101")
    assert (c101.character, c101.dialogue) == ("JOHN", "Mary? Are you in there?")
    # duration 1 (a point): runs to the next cue locator (102), at most 4 s
    assert (c101.tc_in, c101.tc_out) == (tc("01:00:10:00"), tc("01:00:14:00"))
    c102 = sheet.get("102")
    assert c102.tc_out == tc("01:00:19:10") + 64  # the duration field, in frames
    assert c102.tags == {"R": "Off mic"}
    c103 = sheet.get("103")
    assert (c103.character, c103.dialogue, c103.tags) == ("JOHN", "Out of breath", {"EFF": "EFF"})
    assert c103.tc_out == tc("01:00:33:00")  # cut short at the next cue locator
    assert sheet.get("104").tc_out == tc("01:00:35:12")  # OUT in the comment
    assert any("VFX - paint out the boom" in w for w in sheet.warnings)


def test_avid_locator_line_that_is_broken_names_its_line(tmp_path):
    text = AVID + "Ana Editor\tsoon\tV1\tred\t105 JOHN\t1\n"
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, "m.txt", text), RATE_25)
    assert err.value.line == 6 and "not an Avid locator line" in str(err.value)


EDL = (
    "TITLE:   REEL 2 ADR SPOTS\n"
    "FCM: DROP FRAME\n"
    "001  AX       V     C        00:00:00;00 00:00:30;00 01:00:00;00 01:00:30;00 \n"
    "* FROM CLIP NAME:  SC12_TK3\n"
    "* LOC: 01:00:10;00 RED     201 ANNA: Where were you all night?\n"
    "* LOC: 01:00:12;00 GREEN   CHANGE APPROVED\n"
    "002  AX       V     C        00:00:30;00 00:01:30;00 01:00:30;00 01:01:30;00 \n"
    "* LOC: 01:00:59;28 RED     202 | BEN | Out. | over the cut OUT 01:01:00;04\n"
)


def test_edl_locators_with_cue_comments_are_cues_at_the_edl_rate(tmp_path):
    sheet = load_cue_sheet(write(tmp_path, "reel2.edl", EDL))
    assert sheet.source_format == "edl"
    assert sheet.rate == RATE_2997DF  # FCM: DROP FRAME
    assert [c.number for c in sheet] == ["201", "202"]
    c201 = sheet.get("201")
    assert (c201.character, c201.dialogue) == ("ANNA", "Where were you all night?")
    assert (c201.tc_in, c201.tc_out) == (
        tc("01:00:10;00", RATE_2997DF),
        tc("01:00:14;00", RATE_2997DF),
    )
    c202 = sheet.get("202")
    assert (c202.character, c202.dialogue, c202.notes) == ("BEN", "Out.", "over the cut")
    assert c202.duration_frames == 4  # ;28 ;29 (01:01:00;00 and ;01 are dropped) ;02 ;03
    assert any("CHANGE APPROVED" in w for w in sheet.warnings)


def test_non_drop_edl_takes_the_stage_rate(tmp_path):
    text = EDL.replace("DROP FRAME", "NON-DROP FRAME").replace(";", ":")
    sheet = load_cue_sheet(write(tmp_path, "reel2.edl", text), RATE_30)
    assert sheet.get("201").tc_in == tc("01:00:10:00", RATE_30)
    assert sheet.get("202").duration_frames == 6  # :28 :29 01:01:00:00 ... :03 at 30 NDF


def test_real_edl_whose_locators_are_picture_notes_is_refused():
    path = DATA / "locators" / "otio_screening_example.edl"
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(path, RATE_24)
    message = str(err.value)
    assert "no cue among the 3 * LOC: locators" in message  # RED, PINK, GREEN
    assert "'101 JOHN: Where were you?'" in message


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.txt", "Remember to call the actor's agent on Tuesday.\n"),
        ("session.xml", '<?xml version="1.0"?>\n<project><name>x</name></project>\n'),
        ("table.csv", "Name,Colour,Size\nbox,red,3\n"),
    ],
)
def test_anything_else_is_format_not_supported(tmp_path, name, content):
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, name, content), RATE_25)
    message = str(err.value)
    assert message.startswith(f"{name}: format not supported (supported: ")
    assert "Avid Media Composer locator text" in message and "CMX3600" in message
