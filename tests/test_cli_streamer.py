"""`stagebox streamer`: one frame of a real cue sheet to a PNG, and its errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from stagebox.cli import main
from stagebox.display.style import StreamerStyle

SHEET = Path(__file__).resolve().parent.parent / "stagebox" / "data" / "example_cues.csv"


def load(path):
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    return pg.surfarray.array3d(pg.image.load(str(path)))


def test_renders_the_cue_at_the_timecode(tmp_path, capsys):
    out = tmp_path / "frame.png"
    # Cue 103 has TC-in 01:00:31:00 at 25 fps; 01:00:30:05 is 20 frames before it.
    code = main(
        ["streamer", "--cues", str(SHEET), "--cue", "103", "--at", "01:00:30:05",
         "--size", "800x450", "--mode", "record", "--take", "2", "--out", str(out)]
    )  # fmt: skip
    assert code == 0 and "cue 103" in capsys.readouterr().out
    pixels = load(out)
    assert pixels.shape == (800, 450, 3)
    style = StreamerStyle()
    bw = max(2, math.floor(800 * 0.0125 + 0.5))
    x = math.floor((50 - 20) / 50 * (800 - bw) + 0.5)
    bar = np.flatnonzero(np.all(pixels[:, 2] == style.record_colour, axis=1)).tolist()
    assert bar == list(range(x, x + bw))
    # Before TC-in nothing is being recorded: no REC indicator.
    assert not np.all(pixels == style.rec_colour, axis=2).any()


def test_rec_shows_inside_the_line_in_record_mode(tmp_path):
    out = tmp_path / "rec.png"
    args = ["streamer", "--cues", str(SHEET), "--cue", "103", "--at", "01:00:32:00"]
    assert main([*args, "--mode", "record", "--size", "640x360", "--out", str(out)]) == 0
    assert np.all(load(out) == StreamerStyle().rec_colour, axis=2).sum() > 200
    assert main([*args, "--mode", "rehearse", "--size", "640x360", "--out", str(out)]) == 0
    assert not np.all(load(out) == StreamerStyle().rec_colour, axis=2).any()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--cue", "999"], "no cue '999' in example_cues.csv"),
        (["--size", "big"], "--size 'big': expected WIDTHxHEIGHT"),
        (["--at", "01:00:99:00"], "--at:"),
        (["--length", "9"], "length_seconds: 9.0 is outside 1.0..5.0"),
        (["--take", "0"], "--take 0: takes are numbered from 1"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, capsys, extra, message):
    args = ["streamer", "--cues", str(SHEET), "--cue", "101", "--at", "01:00:09:00"]
    args += ["--out", str(tmp_path / "f.png"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_sheet_and_bad_output(tmp_path, capsys):
    args = ["streamer", "--cue", "101", "--at", "01:00:09:00"]
    assert (
        main([*args, "--cues", str(tmp_path / "none.csv"), "--out", str(tmp_path / "f.png")]) == 2
    )
    assert "none.csv: no such file" in capsys.readouterr().err
    assert main([*args, "--cues", str(SHEET), "--out", str(tmp_path / "f.jpg")]) == 2
    assert "name it .png" in capsys.readouterr().err
    assert main([*args, "--cues", str(SHEET), "--out", str(tmp_path / "no" / "f.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
