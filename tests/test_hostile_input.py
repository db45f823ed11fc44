"""Hostile input through the real service and CLI: each case a one-line refusal, nothing changed.

The red team's findings (issue 12) as plain regression tests: raw requests on the control
socket that used to crash a handler, be taken for something else or leak a file's content;
FIFOs that used to hang a thread per request; notes that used to escape into a terminal or
disagree with the take file; cue sheet values read wrongly.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from servicerun import ROOT, RunningService, StageDir, cue, write_sheet

from stagebox.takes.bwf import read_take_metadata
from stagebox.timecode import RATE_25

CUE_101 = cue("101", "01:00:02:00", "01:00:03:00")


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    """One running service (feed played through fast: take 1 of cue 101 is on disk)."""
    stage = StageDir(tmp_path_factory.mktemp("stage"))
    stage.write_feed([CUE_101], passes=1)
    sheet = write_sheet(stage.root / "reel1.csv", [CUE_101])
    stage.write_config(realtime=False, stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as service:
        service.wait_until(lambda s: not s["audio"] and service.call("takes"), 30, "take 1")
        yield service
        service.stop()


def raw(svc, payload: bytes) -> dict:
    """One request line as given (not through the client's encoder); the decoded reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(svc.stage.socket))
        sock.sendall(payload + b"\n")
        reply = sock.makefile("rb").readline()
    assert reply.endswith(b"\n") and reply.count(b"\n") == 1
    return json.loads(reply)


def state(svc) -> tuple:
    status = svc.call("status")
    takes = svc.call("takes")
    return status["mode"], (status["cue"] or {}).get("number"), json.dumps(takes, sort_keys=True)


REFUSED = [
    (b'{"cmd": "take.circle", "args": {"cue": "101", "take": 1, "circled": "no"}}', "'circled'"),
    (b'{"cmd": "take.circle", "args": {"cue": "101", "take": 1.9}}', "'take' must be a whole"),
    (b'{"cmd": "take.circle", "args": {"cue": "101", "take": true}}', "'take' must be a whole"),
    (b'{"cmd": "take.circle", "args": {"cue": "101", "take": 1e400}}', "'take' must be a whole"),
    (b'{"cmd": "take.circle", "args": {"cue": "101", "take": Infinity}}', "whole number"),
    (b'{"cmd": "take.note", "args": {"cue": "101", "take": NaN, "text": "x"}}', "whole number"),
    (b'{"cmd": "take.note", "args": {"cue": ["101"], "take": 1, "text": "x"}}', "'cue'"),
    (b'{"cmd": "take.note", "args": {"cue": "101", "take": 1, "text": 5}}', "'text'"),
    (b'{"cmd": "cue", "args": {"which": {"a": 1}}}', "'which' must be a string"),
    (b'{"cmd": "cues.load", "args": {"path": 7}}', "'path' must be a string"),
    (b'{"cmd": "cues.load", "args": {"path": "reel1.csv"}}', "absolute path"),
    (b'{"cmd": "cues.load", "args": {"path": "/x/\\ud800.csv"}}', "surrogate"),
    (b'{"cmd": "cues.load", "args": {"path": "/' + b"a" * 100_000 + b'"}}', "longer than"),
    (b'{"cmd": "cues.load", "args": {"path": "/srv/' + b"a" * 300 + b'.csv"}}', "255 bytes"),
    (b'{"cmd": "cues.load", "args": {"path": "/tmp/\\u0000"}}', "NUL"),
    (b'{"cmd": "mode", "args": [1]}', '"args" must be an object'),
    (b'{"cmd": "mode", "args": {"mode": "record", "force": true}}', "unknown argument 'force'"),
    (b"[1]", "must be an object"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b'{"cmd": "' + b"\xff" + b'"}', "not JSON"),
    (b'{"cmd": "format.disk"}', "unknown command"),
]


@pytest.mark.parametrize("payload, says", REFUSED, ids=[r[1] for r in REFUSED])
def test_bad_requests_are_refused_in_one_line_and_change_nothing(svc, payload, says):
    before = state(svc)
    reply = raw(svc, payload)
    assert reply["ok"] is False and says in reply["error"], reply
    assert "\n" not in reply["error"] and len(reply["error"]) < 400
    assert state(svc) == before
    assert "Traceback" not in svc.log


def test_a_fifo_neither_hangs_nor_leaks_a_thread(svc, tmp_path):
    fifo = tmp_path / "sheet.csv"
    os.mkfifo(fifo)
    threads = _threads(svc.proc.pid)
    started = time.monotonic()
    for _ in range(20):
        reply = raw(svc, json.dumps({"cmd": "cues.load", "args": {"path": str(fifo)}}).encode())
        assert not reply["ok"] and "FIFO" in reply["error"]
    assert time.monotonic() - started < 5
    time.sleep(0.3)  # handler threads end when their connection closes
    assert _threads(svc.proc.pid) <= threads + 1


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("Threads:")).split()[1])


def test_a_file_that_is_not_a_cue_sheet_is_not_quoted(svc, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$hunter2secret:19000:0:99999:7:::\ndaemon:*:19000::::::\n")
    reply = raw(svc, json.dumps({"cmd": "cues.load", "args": {"path": str(secret)}}).encode())
    assert not reply["ok"] and "format not supported" in reply["error"]  # and why: no quote
    assert "hunter2" not in reply["error"] and "root" not in reply["error"]


def test_escape_sequences_in_a_note_are_stored_but_not_played_to_a_terminal(svc):
    note = "best read \x1b[2J\x1b]0;pwned\x07 \u202eend"
    svc.call("take.note", cue="101", take=1, text=note)
    assert svc.call("takes", cue="101")[0]["note"] == note  # stored as given
    for args in (("takes",), ("takes", "--cue", "101")):
        out = svc.cli(*args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert "\\x1b[2J" in out and "\\u202e" in out
    summary = svc.cli("take", "note", "101", "1", "again \x1b[31mred").stdout
    assert "\x1b" not in summary and "\\x1b[31mred" in summary


def test_a_note_the_take_file_cannot_hold_is_refused_before_it_is_logged(svc):
    take = svc.stage.takes / svc.call("takes", cue="101")[0]["file"]
    svc.call("take.note", cue="101", take=1, text="fits")
    with pytest.raises(Exception, match="iXML chunk cannot hold it"):
        svc.call("take.note", cue="101", take=1, text="€" * 4000)  # 12,000 bytes of UTF-8
    assert svc.call("takes", cue="101")[0]["note"] == "fits"  # the log kept the old note
    assert read_take_metadata(take).note == "fits"  # and so did the file: they agree


def test_state_changes_are_audited_with_the_peer_user(svc):
    import pwd

    user = pwd.getpwuid(os.getuid()).pw_name
    svc.call("mode", mode="rehearse")
    svc.call("mode", mode="record")
    lines = [line for line in svc.log.splitlines() if "audit: mode" in line]
    assert any(f'mode="rehearse" by {user} (uid {os.getuid()}' in line for line in lines)
    assert not any("audit: status" in line for line in svc.log.splitlines())  # queries: no
    svc.call("take.circle", cue="101", take=1, circled=True)
    audit = [line for line in svc.log.splitlines() if "audit: take.circle" in line]
    assert audit and f"by {user} (uid {os.getuid()}" in audit[-1] and audit[-1].endswith("done")
    # and the take's history in the take log says who circled it
    events = [
        json.loads(line) for line in (svc.stage.takes / "takes.jsonl").read_text().splitlines()
    ]
    circles = [e for e in events if e["event"] == "circle"]
    assert circles[-1]["by"] == f"{user} (uid {os.getuid()})"


def _cues_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "stagebox", "cues", "check", str(sheet)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


@pytest.mark.parametrize("rate", ["-25", "nan", "0", "+25"])
def test_a_bad_declared_rate_is_refused_even_with_the_stage_rate_set(tmp_path, rate):
    text = f"# rate: {rate}\nCue,TC In,TC Out\n101,01:00:02:00,01:00:03:00\n"
    done = _cues_check(tmp_path, text)
    assert done.returncode == 2 and "unknown timecode rate" in done.stderr, done.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stagebox",
            "cues",
            "check",
            "--rate",
            "25",
            str(tmp_path / "sheet.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "unknown timecode rate" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "tc_in",
    ["٠١:٠٠:٠٢:٠٠", "０１:００:０２:００", "01:00:0٢:00"],
    ids=["arabic-indic", "full-width", "one digit"],
)
def test_non_ascii_digits_are_not_timecode(tmp_path, tc_in):
    done = _cues_check(tmp_path, f"# rate: 25\nCue,TC In,TC Out\n101,{tc_in},01:00:03:00\n")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 3" in done.stderr


def test_non_ascii_digits_are_not_a_take_number():
    done = subprocess.run(
        [sys.executable, "-m", "stagebox", "take", "circle", "101", "١"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "STAGEBOX_SOCKET": "/nonexistent/sock"},
    )
    assert done.returncode == 2 and "TAKE must be a take number" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["cues", "check", "{fifo}"],
        ["take", "info", "{fifo}"],
        ["take", "note", "{fifo}", "x"],
        ["ltc", "decode", "{fifo}"],
        ["run", "--config", "{fifo}"],
        ["cues", "check", "/dev/zero"],
        ["run", "--config", "/dev/zero"],
    ],
    ids=lambda argv: " ".join(argv[:2]) + (" /dev/zero" if "/dev/zero" in argv else " fifo"),
)
def test_fifos_and_devices_are_refused_at_once(tmp_path, argv):
    fifo = tmp_path / "named.pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "stagebox", *(a.format(fifo=fifo) for a in argv)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert time.monotonic() - started < 15  # nothing waited for a writer or read forever
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    said = done.stdout + done.stderr
    assert any(s in said for s in ("FIFO", "character device", "no such take file")), said


def test_takes_report_to_dash_writes_stdout(svc):
    done = subprocess.run(
        [sys.executable, "-m", "stagebox", "takes", "report", str(svc.stage.takes), "-o", "-"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=svc.stage.root,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("cue,") and "\n101," in done.stdout
    assert not (svc.stage.root / "-").exists()
    online = svc.cli("report", "-o", "-")
    assert online.stdout.splitlines()[0].startswith("cue,")


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("--seconds", "nan", "not a finite number"),
        ("--seconds", "inf", "not a finite number"),
        ("--seconds", "1e400", "not a finite number"),
        ("--seconds", "1e9", "outside 0..3600"),
        ("--level", "nan", "not a finite number"),
        ("--rate", "٤٨٠٠٠", "not a whole number"),
        ("--rate", "４８０００", "not a whole number"),
    ],
)
def test_numeric_options_are_finite_and_ascii(tmp_path, option, value, says):
    argv = ["ltc", "generate", str(tmp_path / "ltc.wav"), "--start", "01:00:00:00", "--fps", "25"]
    argv += ["--seconds", "1"] if option != "--seconds" else []
    done = subprocess.run(
        [sys.executable, "-m", "stagebox", *argv, option, value],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ltc.wav").exists()


def test_json_output_escapes_what_json_leaves_raw(svc):
    svc.call("take.note", cue="101", take=1, text="csi \x9b2J bidi \u202e end")
    out = svc.cli("takes", "--json").stdout
    assert "\x9b" not in out and "\u202e" not in out
    assert json.loads(out)[0]["note"] == "csi \x9b2J bidi \u202e end"  # the same text, escaped


def test_deep_ixml_and_a_huge_name_are_one_line(tmp_path):
    from datetime import datetime

    from stagebox.takes.bwf import TakeFile, TakeFormat
    from stagebox.takes.meta import TakeMetadata

    meta = TakeMetadata(project="P", scene="101", take="1", rate=RATE_25)
    take = TakeFile(tmp_path / "t.wav", TakeFormat(48000, 1, 24), meta, now=datetime(2026, 1, 1))
    take.write_silence(48)
    data = bytearray(take.close().read_bytes())
    at = data.find(b"<BWFXML>")
    deep = b"<BWFXML>" + b"<A>" * 1000 + b"</A>" * 1000 + b"</BWFXML>"  # fits the chunk
    data[at : at + len(deep)] = deep
    (tmp_path / "t.wav").write_bytes(bytes(data))
    for argv in (["take", "info", str(tmp_path / "t.wav")], ["cues", "check", "x" * 100_000]):
        done = subprocess.run(
            [sys.executable, "-m", "stagebox", *argv],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert all(len(line) < 300 for line in done.stderr.splitlines()), done.stderr[:300]
    assert (
        "nested deeper than"
        in subprocess.run(
            [sys.executable, "-m", "stagebox", "take", "info", str(tmp_path / "t.wav")],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        ).stderr
    )
