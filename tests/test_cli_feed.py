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
