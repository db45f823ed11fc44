"""Pro Tools spotting sessions: clip cues, the ADR tag grammar, counters, encodings.

The files in tests/data/protools/ are real exports from ptulsconv's repository (see the README
there). Every expected value below was read off those files by hand: cue counts by counting
`$QN=` in the file, times and lines from the clip rows quoted in the comments.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import DATA

from stagebox.cues import Cue, CueSheet, CueSheetError, load_cue_sheet
from stagebox.cues.tags import parse_tags, tag_text
from stagebox.timecode import RATE_25, RATE_2997DF, RATE_2997NDF, RATE_23976, Timecode

PT = DATA / "protools"


def tc(text: str, rate=RATE_25) -> Timecode:
    return Timecode.parse(text, rate)


# -- the tag grammar ------------------------------------------------------------------------------


def test_tag_grammar_reads_the_three_forms_and_keeps_the_text():
    tagged = parse_tags('"It\'s in all the papers." {R=Replace Line} {Note=Adding "ALL"} $QN=P103')
    assert tagged.text == '"It\'s in all the papers."'
    assert tagged.tags == {"R": "Replace Line", "Note": 'Adding "ALL"', "QN": "P103"}
    assert tagged.mode == ""

    flags = parse_tags("(effort STRUCK) [EFF] [TV] $CN=99g")
    assert flags.text == "(effort STRUCK)"
    assert flags.tags == {"EFF": "EFF", "TV": "TV", "CN": "99g"}

    assert parse_tags("@ {Sc=1-2 Ext. French Countryside - Dusk}").mode == "@"
    assert parse_tags("& the rain in spain [ABC]").mode == "&"
    assert parse_tags("& the rain in spain [ABC]").text == "the rain in spain"


def test_tag_grammar_leaves_word_timing_marks_prices_and_brackets_with_spaces_as_text():
    tagged = parse_tags("{01:00:03:12}Never {+15}again, it cost $5 [laughs quietly]")
    assert tagged.tags == {}
    assert tagged.text == "{01:00:03:12}Never {+15}again, it cost $5 [laughs quietly]"


def test_tags_written_back_read_the_same():
    tags = {"R": "Replace Line", "QN": "P101", "ADLIB": "ADLIB", "Empty": ""}
    assert parse_tags(tag_text(tags)).tags == tags


# -- real sessions --------------------------------------------------------------------------------


def test_charade_41_clip_cues_and_no_cue_made_of_a_reel_marker():
    sheet = load_cue_sheet(PT / "charade.txt")
    assert sheet.source_format == "protools"
    assert sheet.rate == RATE_25  # TIMECODE FORMAT: 25 Frame
    assert sheet.encoding == "utf-8"
    assert len(sheet) == 41  # `grep -c QN= charade.txt`
    numbers = [c.number for c in sheet]
    assert not any("$" in n or "Reel" in n for n in numbers)  # the $Reel=R2 bug
    assert numbers[:3] == ["P101", "P102", "P103"]  # track PETER first, in time order

    # line 51: 1  1  "Does this belong to you?" (alt for "Does HE belong to you?" {R=Replace
    # Line} $QN=P101  01:05:10:16  01:05:11:19   track PETER, COMMENTS $CN=1 {Actor=Cary Grant}
    p101 = sheet.get("P101")
    assert (p101.tc_in, p101.tc_out) == (tc("01:05:10:16"), tc("01:05:11:19"))
    assert (p101.character, p101.actor) == ("PETER", "Cary Grant")
    assert p101.dialogue == '"Does this belong to you?" (alt for "Does HE belong to you?"'
    assert p101.tags["R"] == "Replace Line"
    assert p101.tags["CN"] == "1"
    assert p101.tags["Title"] == "Charade"  # from the first marker's name, {Title=Charade}
    assert p101.reel == "R1"  # first marker's comment: $Reel=R1
    assert p101.scene == "8A Swimming Pool - Onto Terrace"  # @ clip 01:04:29:05-01:07:01:14

    # line 53: "It's in all the afternoon papers." {R=Replace Line} {Note=Adding "ALL"} $QN=P103
    p103 = sheet.get("P103")
    assert p103.dialogue == "It's in all the afternoon papers."  # its quotes taken off
    assert p103.notes == 'Adding "ALL"'
    assert (p103.tc_in, p103.tc_out) == (tc("01:13:59:21"), tc("01:14:01:11"))

    # line 154, track Group.dup1 with COMMENTS $CN=99g {Char=Group} {Actor=Per LG}
    g106 = sheet.get("G106")
    assert (g106.character, g106.actor) == ("Group", "Per LG")
    assert g106.dialogue == "(2M 2F) Detail reaction to show"
    assert g106.reel == "R2"  # after marker $Reel=R2 at 01:18:50:20
    assert g106.scene == "77 Ext. Esplanade des Champs-Elysées"

    # line 62: after marker $Reel=R3 at 01:36:49:04
    p110 = sheet.get("P110")
    assert (p110.reel, p110.notes) == ("R3", "More voice, call through door")
    assert p110.tags["R"] == "Performance"

    g107 = sheet.get("G107")  # (1M) Boy reacts to show [ADLIB] [TBW] $QN=G107
    assert g107.tags["ADLIB"] == "ADLIB" and g107.tags["TBW"] == "TBW"


def test_robin_hood_drop_frame_85_cues():
    sheet = load_cue_sheet(PT / "robinhood_df.txt")
    assert sheet.rate == RATE_2997DF
    assert len(sheet) == 85
    # line 62: "Hold there! What's his fault?" $QN=R106  01:05:30;15  01:05:32;01 (track Robin)
    r106 = sheet.get("R106")
    assert (r106.tc_in, r106.tc_out) == (
        tc("01:05:30;15", RATE_2997DF),
        tc("01:05:32;01", RATE_2997DF),
    )
    assert (r106.character, r106.actor) == ("Robin", "Errol Flynn")
    assert r106.dialogue == "Hold there! What's his fault?"
    # line 147: (effort STRUCK WITH HAND) [EFF] {R=Added} $QN=MH103 on track Much
    mh103 = sheet.get("MH103")
    assert mh103.dialogue == "(effort STRUCK WITH HAND)"
    assert (mh103.tags["EFF"], mh103.tags["R"], mh103.character) == ("EFF", "Added", "Much")


def test_samples_and_min_secs_counters_give_the_drop_frame_sessions_cues():
    """The same session exported with the counter in Samples and in Min:Secs: the cues land
    on the labels the Timecode export shows (Min:Secs is to the millisecond: an edge off the
    frame grid may land a frame later)."""
    df = load_cue_sheet(PT / "robinhood_df.txt")
    samples = load_cue_sheet(PT / "robinhood_samples.txt")
    minsecs = load_cue_sheet(PT / "robinhood_minsecs.txt")
    expected = [(c.number, c.tc_in, c.tc_out) for c in df]
    assert [(c.number, c.tc_in, c.tc_out) for c in samples] == expected
    assert [(c.number, c.tc_in) for c in minsecs] == [e[:2] for e in expected]
    outs = [c.tc_out - e[2] for c, e in zip(minsecs, expected, strict=True)]
    assert set(outs) <= {0, 1} and outs.count(0) >= 84
    # line 57 of the samples file: R101 starts 14731517 samples after 01:00:00;00 at 48 kHz
    assert samples.get("R101").tc_in == tc("01:05:06;28", RATE_2997DF)


def test_sub_frames_are_dropped():
    sheet = load_cue_sheet(PT / "robinhood_subframes.txt")
    assert sheet.rate == RATE_2997NDF
    # line 163: ... $QN=MH103  01:04:23:20.00  01:04:25:12.21 (a TIMESTAMP column follows)
    mh103 = sheet.get("MH103")
    assert (mh103.tc_in, mh103.tc_out) == (
        tc("01:04:23:20", RATE_2997NDF),
        tc("01:04:25:12", RATE_2997NDF),
    )
    assert len(sheet) == 85


def test_feet_and_frames_counter_is_refused_with_the_fix():
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(PT / "robinhood_feet.txt")
    assert err.value.line == 66  # R101's row: 459+14  464+10
    assert "'459+14' is Feet+Frames" in str(err.value)
    assert "export with the main counter on Timecode" in str(err.value)


def test_session_without_a_cue_says_what_was_found_and_what_a_cue_looks_like():
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(PT / "tag_tests.txt")
    message = str(err.value)
    assert "8 tracks with 16 clips and 3 markers" in message
    assert "$QN=101" in message and "'101 JOHN'" in message
    assert err.value.line is None


def test_pro_tools_2023_marker_columns_and_a_track_marker_that_is_not_a_cue():
    sheet = load_cue_sheet(PT / "pt2023_markers.txt")
    assert sheet.rate == RATE_23976
    assert [c.number for c in sheet] == ["T1001", "T1002"]
    t1 = sheet.get("T1001")
    assert (t1.tc_in, t1.tc_out) == (tc("00:00:00:00", RATE_23976), tc("00:00:02:00", RATE_23976))
    assert (t1.character, t1.actor, t1.dialogue) == ("Hamlet", "Laurence Olivier", "Test Line 1")
    assert t1.tags == {"Title": "Multiple Marker Rulers Project"}
    assert any("Track Marker" in w for w in sheet.warnings)


def test_mac_roman_export_is_detected_and_named(tmp_path):
    sheet = load_cue_sheet(PT / "charade_macroman.txt")
    assert sheet.encoding == "mac-roman"
    assert len(sheet) == 41
    assert sheet.get("P108").dialogue == "… And close these windows after me."
    assert sheet.get("G106").scene == "77 Ext. Esplanade des Champs-Elysées"
    # Told it is UTF-8, the same file is refused at its first Mac Roman byte.
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(PT / "charade_macroman.txt", encoding="utf-8")
    assert "is not utf-8 text" in str(err.value)
    # A CSV that is not UTF-8 is still refused (Mac Roman is only guessed for Pro Tools).
    bad = tmp_path / "cues.csv"
    bad.write_bytes("Cue,In,Out,Line\n1,01:00:00:00,01:00:01:00,Caf\u00e9\n".encode("mac_roman"))
    with pytest.raises(CueSheetError):
        load_cue_sheet(bad, RATE_25)


def test_cues_check_names_the_encoding_and_takes_encoding_option():
    def check(*args):
        return subprocess.run(
            [sys.executable, "-m", "stagebox", "cues", "check", *args],
            capture_output=True,
            text=True,
        )

    done = check(str(PT / "charade_macroman.txt"))
    assert done.returncode == 0, done.stderr
    assert "charade_macroman.txt: 41 cues at 25 fps (protools, mac-roman)" in done.stdout
    forced = check(str(PT / "charade_macroman.txt"), "--encoding", "utf-8")
    assert forced.returncode != 0
    assert "not utf-8 text" in forced.stderr and "Traceback" not in forced.stderr


# -- rules, each on a session written here ---------------------------------------------------------

HEADER = (
    "SESSION NAME:\tReel 2 ADR $Title=Rope\n"
    "SAMPLE RATE:\t48000.000000\n"
    "BIT DEPTH:\t24-bit\n"
    "SESSION START TIMECODE:\t01:00:00:00\n"
    "TIMECODE FORMAT:\t25 Frame\n"
    "# OF AUDIO TRACKS:\t3\n"
    "# OF AUDIO CLIPS:\t0\n"
    "# OF AUDIO FILES:\t0\n"
    "\n\n"
    "T R A C K  L I S T I N G\n"
)
COLUMNS = (
    "CHANNEL \tEVENT   \tCLIP NAME                     \tSTART TIME    \tEND TIME      "
    "\tDURATION      \tSTATE\n"
)


def track(name: str, comments: str, rows: list[str]) -> str:
    return (
        f"TRACK NAME:\t{name}\nCOMMENTS:\t{comments}\nUSER DELAY:\t0 Samples\nSTATE: \n"
        + COLUMNS
        + "".join(rows)
        + "\n\n"
    )


def row(channel, event, name, start, end, state="Unmuted") -> str:
    return f"{channel}\t{event}\t{name}\t{start}\t{end}\t00:00:01:00\t{state}\n"


def write(tmp_path, text: str, name="session.txt", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_line_breaks_and_tabs_inside_clip_names_and_comments(tmp_path):
    text = HEADER + track(
        "ANNA",
        "{Actor=Ana Lindqvist}\n$CN=2",  # a comment typed over two lines
        [
            row(1, 1, '"Where were you\nall night?" $QN=201', "01:00:10:00", "01:00:12:10"),
            row(1, 2, '"Out.\tWith friends." $QN=202', "01:00:20:00", "01:00:21:00"),
        ],
    )
    sheet = load_cue_sheet(write(tmp_path, text))
    c201 = sheet.get("201")
    assert c201.dialogue == "Where were you\nall night?"
    assert (c201.tc_in, c201.tc_out) == (tc("01:00:10:00"), tc("01:00:12:10"))
    assert (c201.actor, c201.tags["CN"]) == ("Ana Lindqvist", "2")
    assert c201.tags["Title"] == "Rope"  # from the session name
    c202 = sheet.get("202")
    assert c202.dialogue == "Out. With friends."
    assert (c202.tc_in, c202.tc_out) == (tc("01:00:20:00"), tc("01:00:21:00"))


def test_time_ranges_continuations_stereo_and_precedence(tmp_path):
    text = (
        HEADER
        + track(
            "Scenes",
            "",
            [row(1, 1, "@ {Sc=12 Int. Kitchen} {R=Scene reason}", "01:00:00:00", "01:01:00:00")],
        )
        + track(
            "BEN $CN=3",
            "{Actor=Ben Ode} {R=Track reason}",
            [
                row(1, 1, "First half $QN=301 {R=Off mic}", "01:00:30:00", "01:00:32:00"),
                row(1, 2, "& second half [TV] {R=ignored}", "01:00:33:00", "01:00:35:05"),
                row(1, 3, "Walla under the door", "01:00:40:00", "01:00:41:00"),
                "\n\n",
                row(2, 1, "First half $QN=301 {R=Off mic}", "01:00:30:00", "01:00:32:00"),
                row(2, 2, "& second half [TV] {R=ignored}", "01:00:33:00", "01:00:35:05"),
                row(2, 3, "Walla under the door", "01:00:40:00", "01:00:41:00"),
            ],
        )
        + "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME    \tCOMMENTS\n"
        "1   \t01:00:00:00  \t0                 \tSamples  \t$Reel=R2\t\n"
        "2   \t01:00:34:00  \t1632000           \tSamples  \t$Reel=R3\t\n"
    )
    sheet = load_cue_sheet(write(tmp_path, text))
    assert [c.number for c in sheet] == ["301"]  # stereo rows once; a clip without $QN= is none
    cue = sheet.get("301")
    assert (cue.tc_in, cue.tc_out) == (tc("01:00:30:00"), tc("01:00:35:05"))  # & joins the clips
    assert cue.dialogue == "First half second half"
    assert cue.character == "BEN"  # the track name without its tags
    assert cue.scene == "12 Int. Kitchen"
    assert cue.tags["R"] == "Off mic"  # clip > continuation > track > scene
    assert cue.tags["TV"] == "TV" and cue.tags["CN"] == "3"
    assert cue.reel == "R3"  # the latest marker before the cue's end
    assert any("Walla under the door" in w and "no $QN=" in w for w in sheet.warnings)


def test_markers_named_like_cues_still_work_and_tag_markers_never_do(tmp_path):
    text = (
        HEADER + "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME    \tCOMMENTS\n"
        "1   \t01:00:00:00  \t0                 \tSamples  \t$Reel=R2\t{Title=Rope}\n"
        "2   \t01:00:10:00  \t480000            \tSamples  \t101 JOHN: Hello?\tOUT 01:00:12:00\n"
        "3   \t01:00:20:00  \t960000            \tSamples  \tAsk again $QN=102 [OPT]\t\n"
        "4   \t01:00:30:00  \t1440000           \tSamples  \t[LFOA]\t\n"
    )
    sheet = load_cue_sheet(write(tmp_path, text))
    assert [c.number for c in sheet] == ["101", "102"]
    c101 = sheet.get("101")
    assert (c101.character, c101.dialogue, c101.reel) == ("JOHN", "Hello?", "R2")
    assert (c101.tc_in, c101.tc_out) == (tc("01:00:10:00"), tc("01:00:12:00"))
    c102 = sheet.get("102")
    assert (c102.dialogue, c102.tags["OPT"]) == ("Ask again", "OPT")
    assert c102.tc_out == tc("01:00:24:00")  # default 4 s


def test_only_tag_markers_is_refused_not_two_made_up_cues(tmp_path):
    text = (
        HEADER
        + track("DIA WT", "", [row(1, 1, "RobinHood.1-01.L", "01:00:00:00", "01:10:00:00")])
        + "M A R K E R S  L I S T I N G\n"
        "#   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME    \tCOMMENTS\n"
        "1   \t01:18:50:20  \t0                 \tSamples  \t$Reel=R2\t\n"
        "2   \t01:36:49:04  \t0                 \tSamples  \t$Reel=R3\t\n"
    )
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text))
    assert "1 track with 1 clip and 2 markers" in str(err.value)


def test_duplicate_cue_numbers_across_tracks_name_both_lines(tmp_path):
    text = (
        HEADER
        + track("A", "", [row(1, 1, "x $QN=5", "01:00:01:00", "01:00:02:00")])
        + track("B", "", [row(1, 1, "y $QN=5", "01:00:03:00", "01:00:04:00")])
    )
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text))
    assert "cue 5 appears twice" in str(err.value)


def test_whole_second_min_secs_is_refused(tmp_path):
    text = HEADER + track("A", "", [row(1, 1, "x $QN=5", "0:10", "0:12")])
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text))
    assert "'0:10' is Min:Secs in whole seconds" in str(err.value)


def test_tags_survive_the_trip_to_the_display_and_back():
    cue = Cue("1", tc("01:00:00:00"), tc("01:00:01:00"), tags={"R": "Off mic", "EFF": "EFF"})
    sheet = CueSheet("x.txt", RATE_25, [cue], encoding="mac-roman")
    back = CueSheet.from_dict(sheet.to_dict())
    assert back.get("1").tags == {"R": "Off mic", "EFF": "EFF"}
    assert back.encoding == "mac-roman"


def test_the_configured_encoding_is_for_sheets_that_are_not_utf8(tmp_path):
    # The config's encoding never garbles a UTF-8 sheet ...
    sheet = load_cue_sheet(PT / "charade.txt", fallback_encoding="mac_roman")
    assert sheet.encoding == "utf-8"
    assert sheet.get("P108").dialogue == "… And close these windows after me."
    # ... and reads the sheets that are not UTF-8.
    csv = tmp_path / "cues.csv"
    csv.write_bytes("Cue,In,Out,Line\n1,01:00:00:00,01:00:01:00,Caf\u00e9\n".encode("cp1252"))
    sheet = load_cue_sheet(csv, RATE_25, fallback_encoding="cp1252")
    assert (sheet.encoding, sheet.get("1").dialogue) == ("cp1252", "Caf\u00e9")


def test_a_layer_with_more_tags_than_a_cue_carries_is_refused(tmp_path):
    many = " ".join(f"$K{i}=v" for i in range(101))
    text = HEADER + track("A", many, [row(1, 1, "x $QN=5", "01:00:01:00", "01:00:02:00")])
    with pytest.raises(CueSheetError) as err:
        load_cue_sheet(write(tmp_path, text))
    assert "track 'A' set 101 different tags; a cue carries at most 100" in str(err.value)
    assert err.value.line == text.splitlines().index("TRACK NAME:\tA") + 1
