"""Fuzzing every door hostile input comes through: cue sheets, config, take files, the socket.

Hypothesis builds inputs from what the real thing looks like (a good sheet, config or take,
then mutated: bytes flipped, lines swapped for garbage, digits from other scripts, control
characters, nesting, huge numbers) plus raw junk, and drives them through the real CLI
(`stagebox.cli.main`, in process) and the real service's socket. Each must end in one of two
ways: accepted, or refused with exit status 2 and a last line that names the file (and each
problem line its line or key), with no exception escaping (a traceback) and nothing hanging
(pytest-timeout). Requests the service refuses leave its state (mode, cue, takes) unchanged.

Bounded for CI: about a minute in all (max_examples per door below).
"""

from __future__ import annotations

import json
import math
import socket
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servicerun import RunningService, StageDir, cue, write_sheet

from stagebox.cli import main
from stagebox.takes.bwf import TakeFile, TakeFormat
from stagebox.takes.meta import TakeMetadata, Track
from stagebox.timecode import RATE_25

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters a hostile file or client likes: controls, escapes, other scripts' digits, bidi
# overrides, separators, quotes, lone surrogates are added where the channel can carry them.
NASTY = st.sampled_from(
    list("\x00\x07\x1b\x7f\x85\u202e\u2028\ufeff\t\r\n,;\"'#[]{}=:.")
    + ["٣", "０", "۹", "߀", "1e400", "nan", "-", "Infinity", "\\", "\\u0000", "${x}"]
)
TEXT = st.lists(st.characters(blacklist_categories=("Cs",)) | NASTY, max_size=15).map("".join)


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)  # an exception here is the traceback the engineer would have seen
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, out, err)
    return code, out, err


# -- cue sheets ---------------------------------------------------------------------------------

GOOD_SHEET = (
    "# rate: 25\n"
    "Cue,Character,TC In,TC Out,Dialogue\n"
    "101,JOHN,01:00:10:00,01:00:13:05,Mary? Are you in there?\n"
    "102,MARY,01:00:19:10,01:00:22:00,\"Don't come in, I'm nearly done.\"\n"
)


@st.composite
def mutated_sheets(draw) -> bytes:
    lines = GOOD_SHEET.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["insert", "replace", "splice", "digits", "rate", "cells"]))
        line = lines[i]
        if kind == "insert":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(TEXT) + line[at:]
        elif kind == "replace":
            lines[i] = draw(TEXT) + "\n"
        elif kind == "splice":
            lines.insert(i, draw(TEXT) + "\n")
        elif kind == "digits":  # the same timecodes in another script's digits
            table = str.maketrans(
                "0123456789", draw(st.sampled_from(["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９"]))
            )
            lines[i] = line.translate(table)
        elif kind == "rate":
            rate = draw(st.sampled_from(["-25", "nan", "0", "inf", "25.0.0", "٢٥", "1e400", ""]))
            lines[0] = f"# rate: {rate}\n"
        else:
            lines[i] = ",".join(draw(st.lists(TEXT, max_size=8))) + "\n"
    data = "".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"])) + data
    return data


@FAST
@given(data=mutated_sheets() | st.binary(max_size=400))
def test_cue_sheets_are_loaded_or_refused_in_lines_naming_the_file(capsys, data):
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "reel1.csv"
        sheet.write_bytes(data)
        code, out, err = _run(capsys, ["cues", "check", str(sheet)])
    if code == 2:
        lines = err.splitlines()
        assert lines and lines[-1].startswith("stagebox: reel1.csv"), err
        assert all(line.startswith(("reel1.csv", "stagebox: reel1.csv")) for line in lines), err
        # control characters escaped, never raw (the terminal would act on them)
        assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in err), err
        assert not set(err) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), err


# -- config -------------------------------------------------------------------------------------

KEYS = {
    "audio": [
        "backend",
        "sample_rate",
        "capture_channels",
        "ltc_channel",
        "mic_channels",
        "headphone_channels",
        "period_size",
        "sim_feed",
        "sim_realtime",
    ],
    "timecode": ["rate"],
    "stage": ["mode", "preroll_seconds", "cue_sheet", "project"],
    "takes": ["folder", "bit_depth", "name_template", "disk_reserve_mb"],
    "lights": ["backend", "pinmap", "relay_lag_ms"],
    "display": ["enabled", "size"],
    "control": ["socket", "socket_mode", "socket_group"],
    "nosuch": ["key"],
}
TOML_VALUES = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "1e400",
            "0x3c",
            "[]",
            "[1]",
            "[[1]]",
            "{}",
            "1",
            "true",
            '"/dev/zero"',
            '"/etc/passwd"',
            '".."',
            '"\\u0000"',
            '"٣"',
            '"1920x1080"',
            '"１９２０x１０８０"',
            '"0660"',
            '"0666"',
            '"sim"',
            "[" * 200 + "]" * 200,
        ]
    ),
    TEXT.map(lambda t: json.dumps(t, ensure_ascii=True)),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@st.composite
def configs(draw) -> str:
    out = []
    for section in draw(st.lists(st.sampled_from(list(KEYS)), max_size=4, unique=True)):
        out.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(KEYS[section]), max_size=4, unique=True)):
            out.append(f"{key} = {draw(TOML_VALUES)}")
    if draw(st.booleans()):
        out.insert(draw(st.integers(0, len(out))), draw(TEXT))
    return "\n".join(out) + "\n"


@FAST
@given(text=configs())
def test_configs_are_accepted_or_refused_one_line_per_problem(capsys, text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stage.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, out, err = _run(capsys, ["config", "check", str(path)])
    if code == 2:
        assert out and all(line.startswith(str(path)) for line in out.splitlines()), out
        count = len(out.splitlines())
        assert err.strip() == f"{path}: {count} problem{'s' if count != 1 else ''}", err


# -- take files (WAV, BWF, iXML) --------------------------------------------------------------


def _good_take(folder: Path) -> bytes:
    meta = TakeMetadata(
        project="Nightfall", scene="101", take="1", rate=RATE_25, tracks=(Track("Boom", "MIC"),)
    )
    take = TakeFile(
        folder / "good.wav", TakeFormat(48000, 1, 24), meta, now=datetime(2026, 1, 1, 9, 0)
    )
    take.write_silence(480)
    return take.close().read_bytes()


@st.composite
def mutated_takes(draw, good: bytes) -> bytes:
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "size", "ixml", "insert"]))
        if kind in ("flip", "size") and len(data) < 16:
            continue
        if kind == "flip":
            at = draw(st.integers(0, min(len(data), 4096) - 1))
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif kind == "size":  # a chunk size field (or anything near it) set to something wild
            at = draw(st.integers(4, min(len(data), 4096) - 4))
            data[at : at + 4] = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF])).to_bytes(
                4, "little"
            )
        elif kind == "ixml":
            at = data.find(b"<BWFXML>")
            if at >= 0:
                body = draw(
                    st.sampled_from(
                        [
                            b"<A>" * 5000 + b"</A>" * 5000,
                            b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'>]><BWFXML>&a;&a;</BWFXML>",
                            b"<BWFXML><NOTE>\x1b[2J</NOTE></BWFXML>",
                            b"<BWFXML><CIRCLED>yes",
                        ]
                    )
                )
                data[at : at + len(body)] = body
        else:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


@pytest.fixture(scope="module")
def good_take(tmp_path_factory) -> bytes:
    return _good_take(tmp_path_factory.mktemp("take"))


@FAST
@given(data=st.data())
def test_take_files_are_read_or_refused_in_one_line(capsys, good_take, data):
    raw = data.draw(mutated_takes(good_take) | st.binary(max_size=200))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "101_T001.wav"
        path.write_bytes(raw)
        code, out, err = _run(capsys, ["take", "info", str(path)])
        if code == 2:
            assert err.count("\n") == 1 and "101_T001.wav" in err, err
        code, out, err = _run(
            capsys, ["take", "note", str(path), "x" * data.draw(st.integers(0, 9000))]
        )
        if code == 2:
            assert err.count("\n") == 1 and "101_T001.wav" in err, err


# -- control messages ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    stage = StageDir(tmp_path_factory.mktemp("stage"))
    sheet_cue = cue("101", "01:00:02:00", "01:00:03:00")
    stage.write_feed([sheet_cue], passes=1)
    sheet = write_sheet(stage.root / "reel1.csv", [sheet_cue])
    stage.write_config(realtime=False, stage__cue_sheet=str(sheet), stage__mode="rehearse")
    with RunningService(stage) as service:
        service.wait_until(lambda s: not s["audio"] and s["sample"], 30, "the feed played")
        yield service
        assert "Traceback" not in service.log
        service.stop()


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()  # NaN and infinities included
    | st.sampled_from([1.9, 1e308, -0.0, "101", "1", "/etc/shadow", "reel1.csv", "record"])
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
COMMANDS = [
    "status",
    "mode",
    "cue",
    "cues.load",
    "cues.list",
    "takes",
    "take.circle",
    "take.note",
    "report",
    "review",
    "format.disk",
    "",
]
ARG_NAMES = ["mode", "which", "path", "cue", "take", "circled", "text", "force"]


@st.composite
def requests(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=100)).replace(b"\n", b" ")
    obj: object = {
        "cmd": draw(st.sampled_from(COMMANDS) | JSON_VALUES),
        "args": draw(
            st.dictionaries(st.sampled_from(ARG_NAMES) | TEXT, JSON_VALUES, max_size=4)
            | JSON_VALUES
        ),
    }
    if draw(st.integers(0, 9)) == 0:
        obj = draw(JSON_VALUES)
    text = json.dumps(obj, allow_nan=True)  # NaN, Infinity as Python's json writes them
    if draw(st.booleans()):
        text = text.replace('"', '"\\ud800', 1) if draw(st.booleans()) else text
    return text.encode("utf-8", "surrogatepass")


def _state(svc) -> tuple:
    status = svc.call("status")
    return status["mode"], (status["cue"] or {}).get("number"), json.dumps(svc.call("takes"))


@settings(FAST, max_examples=300)
@given(line=requests())
def test_control_requests_get_one_line_and_refusals_change_nothing(svc, line):
    before = _state(svc)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(svc.stage.socket))
        sock.sendall(line + b"\n")
        reply_line = sock.makefile("rb").readline()
    assert reply_line.endswith(b"\n")
    reply = json.loads(reply_line)
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool)
    if not reply["ok"]:
        error = reply["error"]
        assert isinstance(error, str) and error and "\n" not in error and len(error) < 2000
        assert not error.startswith("internal error"), error
        assert _state(svc) == before
    else:
        # Accepted: only what a legal request does (a mode, a cue, a note) may have changed.
        request = json.loads(line.decode("utf-8", "surrogatepass"), parse_constant=float)
        assert request["cmd"] in COMMANDS
        if request["cmd"] in ("status", "cues.list", "takes", "report"):
            assert _state(svc) == before
    assert math.isfinite(svc.call("status")["speed"])
