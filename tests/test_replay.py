"""`stagebox replay`: the engine over a stage feed file, end to end through the CLI."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import StageFeed
from stagebox.takes.bwf import read_take_metadata
from stagebox.timecode import RATE_25, Timecode
from stagebox.wavfile import read_wav

CUES_CSV = "Cue,TC In,TC Out,Character,Dialogue\n101,01:00:10:00,01:00:12:12,JOHN,Hello there\n"


def stagebox(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "stagebox", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    cue = Cue("101", Timecode.parse("01:00:10:00", RATE_25), Timecode.parse("01:00:12:12", RATE_25))
    feed = StageFeed([cue], passes=3, preroll=3.0, postroll=1.0, seed=7)
    feed.write_wav(folder / "feed.wav")
    (folder / "cues.csv").write_text(CUES_CSV)
    return folder, feed


def replay(folder, out, *extra, feed=None, cues=None):
    """`stagebox replay` of the stage's feed and cue sheet (or others) into `out`."""
    feed = feed or folder / "feed.wav"
    cues = cues or folder / "cues.csv"
    return stagebox("replay", str(feed), "--cues", str(cues), "--out", str(out), *extra)


def data_bytes(path):
    audio = read_wav(path)
    raw = path.read_bytes()
    return raw[audio.data_offset : audio.data_offset + audio.frames * 3]


def test_replay_writes_exact_takes_events_and_phones(stage, tmp_path):
    folder, feed = stage
    out = tmp_path / "takes"
    result = replay(
        folder,
        out,
        "--events-out",
        str(tmp_path / "ev.jsonl"),
        "--playback-out",
        str(tmp_path / "phones.wav"),
    )
    assert result.returncode == 0, result.stderr
    mic = read_wav(folder / "feed.wav").samples[:, feed.mic_channel]
    for n, truth in enumerate(feed.passes, start=1):
        take = out / f"101_T{n:03d}.wav"
        audio = read_wav(take)
        first, stop = truth.tc_in_sample("101"), truth.tc_out_sample("101")
        np.testing.assert_array_equal(audio.samples[:, 0], mic[first:stop])
        meta = read_take_metadata(take)
        assert meta.time_reference == (3600 + 10) * 48000
        assert (meta.scene, meta.take) == ("101", str(n))
    events = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert all({"event", "sample", "timecode"} <= e.keys() for e in events)
    punches = [e for e in events if e["event"] == "punch_in"]
    assert [e["sample"] for e in punches] == [t.tc_in_sample("101") for t in feed.passes]
    assert [e["file"] for e in punches] == ["101_T001.wav", "101_T002.wav", "101_T003.wav"]
    kinds = {e["event"] for e in events}
    assert {"lock", "pass_start", "pass_end", "punch_in", "punch_out", "beep", "light"} <= kinds
    phones = read_wav(tmp_path / "phones.wav")
    assert phones.frames == read_wav(folder / "feed.wav").frames  # aligned sample for sample
    beeps = [e["sample"] for e in events if e["event"] == "beep"]
    # The actor's phones in record mode (the default [phones]): the beeps, and their own mic
    # (sidetone) at -6 dB on the same samples; with the sidetone taken out, silence until each
    # beep's sample (to the 24-bit WAV's rounding).
    rest = phones.samples[:, 0] - 10 ** (-6 / 20) * mic
    for b in beeps:
        assert np.all(np.abs(rest[b - 50 : b]) < 2e-7)
        assert np.max(np.abs(rest[b : b + 1920])) > 0.09


def test_replay_is_deterministic_and_never_overwrites(stage, tmp_path):
    folder, _ = stage
    a, b = tmp_path / "a", tmp_path / "b"
    assert replay(folder, a).returncode == 0
    assert replay(folder, b).returncode == 0
    for name in ("101_T001.wav", "101_T002.wav", "101_T003.wav"):
        assert data_bytes(a / name) == data_bytes(b / name)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in a.glob("*.wav")}
    # A second run into the same folder goes on numbering: takes 4 to 6, old ones untouched.
    assert replay(folder, a).returncode == 0
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in a.glob("*.wav")}
    assert sorted(after) == [f"101_T{n:03d}.wav" for n in range(1, 7)]
    assert all(after[name] == digest for name, digest in before.items())


def test_rehearse_writes_no_takes(stage, tmp_path):
    folder, _ = stage
    out = tmp_path / "t"
    r = replay(folder, out, "--mode", "rehearse")
    assert r.returncode == 0, r.stderr
    assert list(out.glob("*.wav")) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ltc-channel", "3"], "LTC channel 3 does not exist"),
        (["--mic-channel", "2"], "cannot be both the LTC and a mic channel"),
    ],
)
def test_bad_channels(stage, tmp_path, extra, message):
    folder, _ = stage
    r = replay(folder, tmp_path / "t", *extra)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_inputs_named(stage, tmp_path):
    folder, _ = stage
    missing = replay(folder, tmp_path / "t", feed=tmp_path / "nope.wav")
    assert missing.returncode == 2 and "nope.wav" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("Cue,TC In,TC Out\n1,01:00:05:00,01:00:04:00\n# rate: 25\n")
    r = replay(folder, tmp_path / "t", cues=bad)
    assert r.returncode == 2 and "bad.csv line 2" in r.stderr


PT_SESSION = (
    "SESSION NAME:\tReel 1 ADR\n"
    "SAMPLE RATE:\t48000.000000\n"
    "BIT DEPTH:\t24-bit\n"
    "SESSION START TIMECODE:\t01:00:00:00\n"
    "TIMECODE FORMAT:\t25 Frame\n"
    "# OF AUDIO TRACKS:\t1\n"
    "# OF AUDIO CLIPS:\t0\n"
    "# OF AUDIO FILES:\t0\n"
    "\n\n"
    "T R A C K  L I S T I N G\n"
    "TRACK NAME:\tJOHN\n"
    "COMMENTS:\t{Actor=Tom Reyes} $CN=1\n"
    "USER DELAY:\t0 Samples\n"
    "STATE: \n"
    "CHANNEL \tEVENT   \tCLIP NAME                     \tSTART TIME    \tEND TIME      "
    "\tDURATION      \tSTATE\n"
    '1       \t1       \t"Hello there." {R=Off mic} [EFF] $QN=101\t   01:00:10:00\t'
    "   01:00:12:12\t   00:00:02:12\tUnmuted\n"
)


def report_rows(out):
    import csv
    import io

    done = stagebox("takes", "report", str(out))
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_replay_with_a_pro_tools_session_carries_the_cue_into_ixml_and_report(stage, tmp_path):
    folder, feed = stage
    session = tmp_path / "Reel 1 ADR.txt"
    session.write_text(PT_SESSION, encoding="mac_roman")
    out = tmp_path / "takes"
    result = replay(folder, out, cues=session)
    assert result.returncode == 0, result.stderr
    for n, truth in enumerate(feed.passes, start=1):
        take = out / f"101_T{n:03d}.wav"
        audio = read_wav(take)
        assert audio.frames == truth.tc_out_sample("101") - truth.tc_in_sample("101")
    user = dict(read_take_metadata(out / "101_T001.wav").user)
    assert user["CHARACTER"] == "JOHN" and user["ACTOR"] == "Tom Reyes"
    assert user["LINE"] == "Hello there."
    assert (user["TAG_R"], user["TAG_EFF"], user["TAG_CN"]) == ("Off mic", "EFF", "1")
    info = stagebox("take", "info", str(out / "101_T001.wav"))
    assert "    character     JOHN" in info.stdout and "    tag_r         Off mic" in info.stdout
    rows = report_rows(out)
    assert len(rows) == 3
    assert (rows[0]["line"], rows[0]["character"]) == ("Hello there.", "JOHN")
    assert rows[0]["tags"] == "$CN=1 {R=Off mic} [EFF]"


def test_replay_of_a_dubbing_sheet_keeps_both_lines(stage, tmp_path):
    folder, _ = stage
    sheet = tmp_path / "vf.csv"
    sheet.write_text(
        "Cue,TC In,TC Out,Character,Dialogue,Dialogue FR\n"
        '101,01:00:10:00,01:00:12:12,JOHN,Hello there,"Salut, toi"\n',
        encoding="utf-8",
    )
    out = tmp_path / "takes"
    result = replay(folder, out, cues=sheet)
    assert result.returncode == 0, result.stderr
    user = dict(read_take_metadata(out / "101_T002.wav").user)
    assert (user["LINE"], user["LINE_LANGUAGE"], user["ORIGINAL_LINE"]) == (
        "Salut, toi",
        "FR",
        "Hello there",
    )
    rows = report_rows(out)
    assert (rows[1]["line"], rows[1]["original_line"]) == ("Salut, toi", "Hello there")
