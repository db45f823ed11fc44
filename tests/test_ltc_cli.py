"""`stagebox ltc decode`, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA
from ltc_signals import ltc

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stagebox", "ltc", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def write_wav(path: Path, channels: list[np.ndarray], sample_rate: int = 48000) -> Path:
    pcm = np.round(np.stack(channels, axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="module")
def stereo(tmp_path_factory) -> tuple[Path, list]:
    """Channel 1 silence, channel 2 LTC at 29.97 DF from 00:59:59;20 (across the hour)."""
    sig, truth = ltc("29.97df", seconds=1.5, start="00:59:59;20")
    path = write_wav(tmp_path_factory.mktemp("cli") / "take.wav", [np.zeros(sig.size), sig])
    return path, truth


def test_decode_prints_a_line_per_frame_like_ltcdump(stereo):
    path, truth = stereo
    res = run("decode", str(path), "--channel", "2")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == len(truth)
    for line, t in zip(lines, truth, strict=True):
        bits, label, bar, start, end = line.split()
        assert (label, bar) == (t.label, "|")
        assert abs(int(start) - t.start) <= 1 and abs(int(end) - t.end) <= 1
    assert "00:59:59;29" in res.stdout and "01:00:00;00" in res.stdout  # no drop on the hour
    summary = res.stderr.strip()
    assert f"{len(truth)} frames" in summary
    assert "29.97df" in summary
    assert "0 discontinuities" in summary


def test_decode_json(stereo):
    path, truth = stereo
    res = run("decode", str(path), "--channel", "2", "--json")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["timecode"] for r in rows] == [t.label for t in truth]
    for r, t in zip(rows, truth, strict=True):
        assert abs(r["start"] - t.start) <= 1 and abs(r["end"] - t.end) <= 1
        assert r["reverse"] is False and r["drop_frame"] is True
        assert r["user_bits"] == "00000000"


def test_silent_channel_gives_no_frames(stereo):
    path, _ = stereo
    res = run("decode", str(path))  # channel 1 by default
    assert res.returncode == 0
    assert res.stdout == ""
    assert "no LTC frames" in res.stderr


def test_reverse_and_discontinuities_are_reported(tmp_path):
    a, ta = ltc("25", seconds=1.0, offset=0)
    b, tb = ltc("25", seconds=1.0, start="02:00:00:00", offset=0)
    # A relocate, then the transport stops for 50 ms and plays backwards.
    path = write_wav(tmp_path / "jump.wav", [np.concatenate([a, np.zeros(2400), b[::-1]])])
    res = run("decode", str(path))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == len(ta) + len(tb)
    assert all(line.endswith(" R") for line in lines[len(ta) :])
    assert not any(line.endswith(" R") for line in lines[: len(ta)])
    assert "1 discontinuities" in res.stderr  # the jump to 02:00:00:24 played backwards
    assert f"{len(tb)} played backwards" in res.stderr


def test_real_recording_excerpt():
    res = run("decode", str(DATA / "vxlr7_excerpt.wav"))
    assert res.returncode == 0, res.stderr
    assert "72 frames, 17:13:23:00 .. 17:13:25:23, 24 fps" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channel", "3"], "no channel 3 (the file has 2"),
        (["--channel", "0"], "no channel 0"),
    ],
)
def test_bad_channel(stereo, args, message):
    path, _ = stereo
    res = run("decode", str(path), *args)
    assert res.returncode == 2
    assert message in res.stderr and str(path) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_unreadable_files(tmp_path):
    missing = tmp_path / "nope.wav"
    res = run("decode", str(missing))
    assert res.returncode == 2 and str(missing) in res.stderr
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all, just words")
    res = run("decode", str(text))
    assert res.returncode == 2 and str(text) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
