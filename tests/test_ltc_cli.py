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

from stagebox.timecode import Timecode

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


@pytest.fixture(scope="module")
def ltcdecode(tmp_path_factory) -> Path:
    """bench/ltcdecode.c (libltc's decoder reading a WAV, printing frames as we do), built
    against the system's libltc (Debian libltc-dev and gcc, installed by .ci/setup)."""
    exe = tmp_path_factory.mktemp("c") / "ltcdecode"
    r = subprocess.run(
        ["cc", "-O2", "-o", str(exe), str(ROOT / "bench" / "ltcdecode.c"), "-lltc"],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.fail(f"cannot build bench/ltcdecode.c (run .ci/setup for libltc-dev):\n{r.stderr}")
    return exe


def generate(path: Path, *args: str) -> Path:
    res = run("generate", str(path), *args)
    assert res.returncode == 0, res.stderr
    return path


@pytest.mark.parametrize(
    ("args", "user_bits"),
    [
        (["--fps", "25", "--start", "00:59:50:00", "--user-bits", "0x12345678"], "12345678"),
        (
            ["--fps", "29.97", "--drop-frame", "--start", "00:09:58;00", "--user-bits", "0xa5"],
            "000000a5",
        ),
        (["--fps", "23.976", "--start", "10:00:00:00"], "00000000"),
    ],
    ids=["25", "29.97df", "23.976"],
)
def test_decode_prints_what_libltc_reads(tmp_path, ltcdecode, args, user_bits):
    """Our lines against the C program's on the same generated file: the same user bits and
    labels line for line (libltc may miss the last frame: it waits for the next frame's first
    edge), starts and ends within 2 samples (libltc counts whole samples, in its own way)."""
    path = generate(tmp_path / "ltc.wav", *args, "--seconds", "30")
    ours = run("decode", str(path))
    assert ours.returncode == 0, ours.stderr
    c = subprocess.run([str(ltcdecode), str(path)], capture_output=True, text=True)
    assert c.returncode == 0, c.stderr
    mine = [line.split() for line in ours.stdout.splitlines()]
    theirs = [line.split() for line in c.stdout.splitlines()]
    assert len(theirs) > 700 and len(mine) - len(theirs) in (0, 1)
    assert [m[:3] for m in mine[: len(theirs)]] == [t[:3] for t in theirs]
    assert {m[0] for m in mine} == {user_bits}
    for m, t in zip(mine[1:], theirs[1:], strict=False):  # libltc starts its first frame early
        assert abs(int(m[3]) - int(t[3])) <= 2 and abs(int(m[4]) - int(t[4])) <= 2, (m, t)


def test_decode_output_is_the_same_in_any_block(tmp_path, monkeypatch, capsys):
    """The lines and the summary do not depend on where the file is cut into blocks."""
    from stagebox.cli import ltc as ltc_cli
    from stagebox.cli import main

    path = generate(
        tmp_path / "ltc.wav",
        "--fps",
        "29.97",
        "--drop-frame",
        "--start",
        "00:09:59;00",
        "--seconds",
        "3",
    )
    outputs = []
    for block in (1 << 20, 4096, 1001):
        monkeypatch.setattr(ltc_cli, "DECODE_BLOCK", block)
        assert main(["ltc", "decode", str(path)]) == 0
        outputs.append(capsys.readouterr())
    assert outputs[0].out.count("\n") == 89  # 3 s at 29.97: frames 00:09:59;00 .. 00:10:02;00
    assert all(o == outputs[0] for o in outputs)


def test_label_checks_on_arrays_agree_with_timecode():
    """The summary's label arithmetic on arrays is `Timecode`'s, label for label: which
    labels exist (`label_problem`) and their frame counts, at every rate."""
    from stagebox.cli.ltc import label_exists
    from stagebox.timecode import RATES, label_frame_count, label_problem

    grid = np.array(
        np.meshgrid(
            [0, 1, 9, 23, 24, 45], range(0, 62), [0, 1, 30, 59, 60], range(0, 33), indexing="ij"
        )
    ).reshape(4, -1)
    h, m, s, f = grid
    for rate in RATES:
        exists = label_exists(h, m, s, f, rate)
        counts = label_frame_count(h, m, s, f, rate)
        for i in range(0, h.size, 7):
            label = (int(h[i]), int(m[i]), int(s[i]), int(f[i]))
            assert bool(exists[i]) == (label_problem(*label, rate) == ""), (label, rate)
            if exists[i]:
                assert counts[i] == Timecode(*label, rate).frame_count


def test_the_summary_median_is_numpys():
    """`ltc.median` (the summary's, without numpy.ma) gives np.median's value to the bit:
    odd and even counts, ties, frame periods, the drop-frame flags as bools."""
    from stagebox.cli.ltc import median

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 5, 10, 11, 1000, 1001):
        periods = 1920.0 + rng.normal(size=n) * 1e-3
        for values in (periods, np.round(periods, 2), rng.integers(0, 2, n).astype(bool)):
            expected = float(np.median(values.astype(np.float64)))
            assert median(values) == expected
            assert median(values).hex() == expected.hex()
