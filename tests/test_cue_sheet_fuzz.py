"""Property tests for the cue sheet importers.

Round trip: cues generated at random are written as a sheet by Python's csv module (the way a
spreadsheet would write them, with any delimiter, line ending and BOM), loaded, and compared
field by field with what was generated. Garbage: whatever the bytes, loading either succeeds or
raises CueSheetError, never anything else.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagebox.cues import CueSheetError, load_cue_sheet
from stagebox.timecode import RATES, Timecode

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text an editor types into a cell: quotes, delimiters, line breaks, accents, but no NUL, no
# carriage return on its own (csv normalises line breaks) and no braces (word timing syntax).
cell_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="{}\r\ufeff\u2028\u2029\x85"
    )
    | st.sampled_from(",;\t\n\"' "),
    max_size=40,
)
cue_number = st.from_regex(r"[0-9]{1,4}[A-Z]?|R[0-9]-[0-9]{1,3}", fullmatch=True)


@st.composite
def sheets(draw):
    rate = draw(st.sampled_from(RATES))
    numbers = draw(st.lists(cue_number, min_size=1, max_size=12, unique_by=str.casefold))
    cues = []
    for number in numbers:
        start = draw(st.integers(0, rate.frames_per_day - 2000))
        length = draw(st.integers(1, 1500))  # frames
        cues.append(
            {
                "number": number,
                "tc_in": Timecode.from_frames(start, rate),
                "tc_out": Timecode.from_frames(start + length, rate),
                "character": draw(cell_text),
                "dialogue": draw(cell_text),
                "notes": draw(cell_text),
            }
        )
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.booleans())
    declare = draw(st.booleans())
    return rate, cues, delimiter, terminator, bom, declare


def _write_sheet(rate, cues, delimiter, terminator, bom, declare) -> bytes:
    out = io.StringIO(newline="")
    if declare:
        out.write(f"# rate: {rate.name}{terminator}")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(["Cue", "Character", "TC In", "TC Out", "Dialogue", "Notes"])
    for c in cues:
        writer.writerow(
            [
                c["number"],
                c["character"],
                str(c["tc_in"]),
                str(c["tc_out"]),
                c["dialogue"],
                c["notes"],
            ]
        )
    data = out.getvalue().encode("utf-8")
    return codecs.BOM_UTF8 + data if bom else data


@SETTINGS
@given(sheets())
def test_generated_sheets_round_trip(sheet):
    rate, cues, delimiter, terminator, bom, declare = sheet
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cues.csv"
        path.write_bytes(_write_sheet(*sheet))
        loaded = load_cue_sheet(path, None if declare else rate)
    assert loaded.rate == rate
    assert [c.number for c in loaded] == [c["number"] for c in cues]
    for got, want in zip(loaded, cues, strict=True):
        assert got.tc_in == want["tc_in"]
        assert got.tc_out == want["tc_out"]
        # The importer trims cells and keeps line breaks inside them as "\n".
        assert got.character == want["character"].strip()
        assert got.dialogue == want["dialogue"].strip()
        assert got.notes == want["notes"].strip()


TOKENS = st.sampled_from(
    [
        "Cue",
        "In",
        "Out",
        "Edit",
        "Record Time In",
        "Record Time Out",
        "Dialogue",
        "# rate: 25",
        "# rate: 12",
        "01:00:00:00",
        "01:00:01:00",
        "01:00:59;29",
        "25:99:99:99",
        "{01:00:00:05}",
        "{+3}",
        "{",
        "}",
        ",",
        ";",
        "\t",
        "\n",
        "\r\n",
        "\r",
        '"',
        "#",
        "SESSION NAME:\tx\n",
        "TIMECODE FORMAT:\t25 Frame\n",
        "TIMECODE FORMAT:\t50 Frame\n",
        "M A R K E R S  L I S T I N G\n",
        "#   \tLOCATION\tTIME REFERENCE\tUNITS\tNAME\tCOMMENTS\n",
        "#   \tLOCATION\tTIME REFERENCE\tUNITS\tNAME\tTRACK NAME\tTRACK TYPE\tCOMMENTS\n",
        "1   \t",
        "Samples",
        "Ruler",
        "OUT 01:00:02:00",
        "101 JOHN",
        "|",
        "\x00",
        "\ufeff",
        "é",
    ]
)


@SETTINGS
@given(st.lists(TOKENS, max_size=60), st.sampled_from([None, *RATES]))
def test_token_soup_raises_only_cue_sheet_error(tokens, rate):
    _load_anything("".join(tokens).encode("utf-8"), rate)


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from([None, *RATES]))
def test_random_bytes_raise_only_cue_sheet_error(data, rate):
    _load_anything(data, rate)


def _load_anything(data: bytes, rate) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "garbage.txt"
        path.write_bytes(data)
        try:
            sheet = load_cue_sheet(path, rate)
        except CueSheetError as exc:
            assert exc.problems and str(exc)
            assert all(p.line is None or p.line >= 1 for p in exc.problems)
        else:
            assert len(sheet) >= 1


# Real spotting files (tests/data), cut and spliced at random: Pro Tools sessions, an EDL, DetX.
_DATA = Path(__file__).resolve().parent / "data"
SPOTTING_FILES = [
    (_DATA / name).read_bytes()
    for name in (
        "protools/pt2023_markers.txt",
        "protools/tag_tests.txt",
        "locators/otio_screening_example.edl",
        "detx/reel1_fr.detx",
    )
] + [(_DATA / "protools/charade.txt").read_bytes()[:4000]]
SPLICES = st.sampled_from(
    [b"\t", b"\n", b"$QN=1 ", b"{R=", b"@ ", b"& ", b"* LOC: 01:00:00:00 RED 1 X\n", b"\xff"]
    + [b'<lipsync timecode="99:00:00:00"/>', b"<!DOCTYPE x>", b"Unmuted", b"OUT 25:00:00:00"]
)


@SETTINGS
@given(
    st.sampled_from(SPOTTING_FILES),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 300), SPLICES), max_size=8),
    st.sampled_from([None, *RATES]),
)
def test_damaged_spotting_files_raise_only_cue_sheet_error(data, edits, rate):
    for where, cut, splice in edits:
        at = int(where * len(data))
        data = data[:at] + splice + data[at + cut :]
    _load_anything(data, rate)
