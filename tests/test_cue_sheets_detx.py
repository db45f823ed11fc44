"""DetX rythmo files: roles, lines, per-word timing on the rhythm band, and safe XML.

No DetX file under a licence that allows copying could be found in public repositories;
`tests/data/detx/reel1_fr.detx` is written here in the layout Cappella writes (header, roles,
body of lines with `<lipsync>` sync points around `<text>`), the same layout public DetX
writers produce. Expected values are read off the file by hand.
"""

from __future__ import annotations

import re

import pytest
from conftest import DATA

from stagebox.cues import CueSheetError, load_cue_sheet
from stagebox.display.timing import word_offsets
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode

DETX = DATA / "detx" / "reel1_fr.detx"


def tc(text: str, rate=RATE_25) -> Timecode:
    return Timecode.parse(text, rate)


def write(tmp_path, text: str, name="reel.detx"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_roles_become_characters_and_lines_cues():
    sheet = load_cue_sheet(DETX, RATE_25)
    assert sheet.source_format == "detx"
    assert [c.number for c in sheet] == ["1", "2", "3"]  # body order: DetX has no numbers
    c1 = sheet.get("1")
    assert (c1.character, c1.dialogue) == ("JEAN", "Marie ? Tu es là ?")
    assert (c1.tc_in, c1.tc_out) == (tc("01:00:10:00"), tc("01:00:13:05"))
    c2 = sheet.get("2")
    assert (c2.character, c2.dialogue) == ("MARIE", "N'entre pas. J'ai presque fini.")
    assert (c2.tc_in, c2.tc_out) == (tc("01:00:19:10"), tc("01:00:22:00"))
    assert c2.tags == {"track": "1"}
    assert sheet.get("3").tags == {"reac": "reac", "track": "0"}


def test_sync_points_time_the_words_for_the_rhythm_band():
    cue = load_cue_sheet(DETX, RATE_25).get("1")
    # <lipsync 01:00:10:00> "Marie ? " <lipsync 01:00:11:05> "Tu es là ?" <lipsync 01:00:13:05>
    # "Marie ?" spans 30 frames: "Marie" (5 of 6 characters) then "?" 25 frames in.
    # "Tu es là ?" spans 50 frames over 2+2+2+1 = 7 characters: 0, 14, 28, 42 frames in.
    assert [(w, str(t)) for w, t in cue.words] == [
        ("Marie", "01:00:10:00"),
        ("?", "01:00:11:00"),
        ("Tu", "01:00:11:05"),
        ("es", "01:00:11:19"),
        ("là", "01:00:12:08"),
        ("?", "01:00:12:22"),
    ]
    # The rhythm band draws each word at its offset from TC-in, in frames.
    assert word_offsets(cue) == (
        ("Marie", 0.0),
        ("?", 25.0),
        ("Tu", 30.0),
        ("es", 44.0),
        ("là", 58.0),
        ("?", 72.0),
    )
    # A pause inside a line (out_close, then in_open): "J'ai" starts at the second in_open.
    c2 = load_cue_sheet(DETX, RATE_25).get("2")
    assert ("J'ai", tc("01:00:20:20")) in c2.words


def test_drop_frame_timecodes_give_the_rate(tmp_path):
    text = re.sub(r"(\d\d:\d\d:\d\d):(\d\d)", r"\1;\2", DETX.read_text(encoding="utf-8"))
    sheet = load_cue_sheet(write(tmp_path, text))
    assert sheet.rate == RATE_2997DF
    assert sheet.get("1").tc_in == tc("01:00:10;00", RATE_2997DF)
    assert sheet.get("1").words[2] == ("Tu", tc("01:00:11;05", RATE_2997DF))


BOMB = """<?xml version="1.0"?>
<!DOCTYPE detx [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<detx><roles><role id="x" name="X"/></roles><body>
<line role="x"><lipsync timecode="01:00:00:00" type="in_open"/><text>&c;</text>
<lipsync timecode="01:00:01:00" type="out_open"/></line></body></detx>
"""


def test_entities_and_dtds_are_refused_not_expanded(tmp_path):
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, BOMB), RATE_25)
    assert err.value.line == 2
    assert "DTD or entity declaration" in str(err.value)


def test_broken_xml_names_its_line(tmp_path):
    text = DETX.read_text(encoding="utf-8").replace(
        '</line>\n    <line role="marie"', '\n    <line role="marie"', 1
    )
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text), RATE_25)
    assert "not well-formed XML" in str(err.value) and err.value.line is not None


def test_lipsync_that_is_not_a_timecode_names_its_line(tmp_path):
    text = DETX.read_text(encoding="utf-8").replace("01:00:11:05", "soon")
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text), RATE_25)
    assert err.value.line == 15  # <lipsync timecode="soon" type="neutral"/>
    assert "is not a timecode" in str(err.value)


def test_detx_without_lines_is_refused(tmp_path):
    text = '<?xml version="1.0"?>\n<detx><roles/><body></body></detx>\n'
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text), RATE_25)
    assert "no cue in this DetX file (0 <line> elements" in str(err.value)
