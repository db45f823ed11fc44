"""`stagebox feed`: the WAV it writes carries the LTC it claims, and bad input is one line."""

from __future__ import annotations

import re

import pytest

from stagebox.cli import main
from stagebox.wavfile import read_wav


def test_feed_wav_has_tc_in_where_it_says(tmp_path, capsys, libltc):
    out = tmp_path / "stage.wav"
    code = main(
        [
            "feed",
            str(out),
            "--cue",
            "101=01:00:10:00-01:00:11:00",
            "--fps",
            "25",
            "--passes",
            "2",
            "--preroll",
            "1",
            "--postroll",
            "0.5",
            "--bits",
            "16",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    samples = [int(s) for s in re.findall(r"at sample (\d+)", printed)]
    assert len(samples) == 2
    audio = read_wav(out)
    assert (audio.channels, audio.sample_rate, audio.bits) == (2, 48000, 16)
    frames = libltc.decode(audio.samples[:, 1], 1920)
    for s in samples:  # libltc finds 01:00:10:00 starting on the printed sample
        hits = [f for f in frames if f.label == "01:00:10:00" and abs(f.start - s) <= 6]
        assert len(hits) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cue", "01:00:10:00", "--fps", "25"], "expected [NUMBER=]TC_IN-TC_OUT"),
        (["--cue", "01:00:10:00-01:00:11:27", "--fps", "25"], "--cue"),
        (["--cue", "01:00:10:00-01:00:11:00", "--fps", "26"], "unknown timecode rate"),
        (["--cue", "01:00:10:00-01:00:11:00", "--fps", "25", "--dropout", "4:1:1"], "pass 4"),
        (["--cue", "01:00:11:00-01:00:10:00", "--fps", "25"], "not after TC-in"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, message):
    assert main(["feed", str(tmp_path / "x.wav"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


def test_never_overwrites(tmp_path, capsys):
    out = tmp_path / "taken.wav"
    out.write_bytes(b"a take")
    assert main(["feed", str(out), "--cue", "01:00:10:00-01:00:11:00", "--fps", "25"]) == 2
    assert out.read_bytes() == b"a take"
    assert "never overwrites" in capsys.readouterr().err


def test_feed_with_a_guide_channel_and_a_late_actor(tmp_path, capsys):
    """`--guide` adds channel 3, the cue's line on time from TC-in on every pass, and the actor
    speaks that line; `--late 0,0.12` makes the actor 0.12 s late on pass 2 only."""
    import numpy as np

    out = tmp_path / "stage.wav"
    args = ["feed", str(out), "--cue", "101=01:00:10:00-01:00:13:05", "--fps", "25"]
    args += ["--passes", "2", "--preroll", "1", "--guide", "--late", "0,0.12", "--tail", "5"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "channel 3 = guide" in captured.err
    tc_in = [int(s) for s in re.findall(r"at sample (\d+)", captured.out)]
    audio = read_wav(out)
    assert audio.channels == 3
    mic, guide = audio.samples[:, 0], audio.samples[:, 2]

    def onset(channel, start):  # first sample of speech (well over the -70 dBFS room noise)
        return start + int(np.flatnonzero(np.abs(channel[start : start + 48000]) > 0.01)[0])

    for n, late in enumerate((0.0, 0.12)):
        assert 0 <= onset(guide, tc_in[n]) - tc_in[n] < 1920  # the guide: from TC-in (a frame)
        lag = onset(mic, tc_in[n]) - onset(guide, tc_in[n])
        assert lag == pytest.approx(late * 48000, abs=48)
    assert len(audio.samples) / 48000 > 5 + 2 * 5.2  # the tail of silence is there


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--late", "0.1"], "--late needs --guide"),
        (["--guide", "--passes", "2", "--late", "0,0,0.1"], "the feed has 2"),
    ],
)
def test_late_without_its_guide_or_for_passes_not_there(tmp_path, capsys, args, message):
    cue = ["--cue", "01:00:10:00-01:00:11:00", "--fps", "25"]
    assert main(["feed", str(tmp_path / "x.wav"), *cue, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
