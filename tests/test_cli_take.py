"""`stagebox take info|circle|repair` through the real command-line entry point."""

from __future__ import annotations

import shutil

import numpy as np

from stagebox.cli import main
from stagebox.takes.bwf import TakeFile, TakeFormat, read_take_metadata
from stagebox.takes.disk import marker_path
from stagebox.takes.meta import TakeMetadata
from stagebox.timecode import RATE_25
from stagebox.wavfile import read_wav

META = TakeMetadata(project="Nightfall", scene="117", take="3", rate=RATE_25)


def make(path, frames=4800):
    # 10:00:00:00 at 25 fps, 48 kHz: 36000 s * 48000 samples.
    take = TakeFile(
        path, TakeFormat(48000, 1, 24), META.with_file_facts(time_reference=36000 * 48000)
    )
    take.write(np.zeros((frames, 1), dtype=np.float32))
    return take


def test_info(tmp_path, capsys):
    path = tmp_path / "t.wav"
    make(path).close()
    assert main(["take", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 ch, 48000 Hz, 24-bit int, RIFF" in out and "4800 frames (0.100 s)" in out
    assert "= 10:00:00:00 at 25" in out and "cue        117" in out and "warning" not in out


def test_info_of_a_non_wav_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert main(["take", "info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "not a RIFF/RF64 file" in err


def test_circle_and_uncircle(tmp_path, capsys):
    path = tmp_path / "t.wav"
    make(path).close()
    assert main(["take", "circle", str(path), "--note", "director's pick"]) == 0
    meta = read_take_metadata(path)
    assert meta.circled and meta.note == "director's pick"
    assert main(["take", "circle", "--off", str(path)]) == 0
    assert not read_take_metadata(path).circled
    assert "not circled" in capsys.readouterr().out


def test_repair(tmp_path, capsys):
    path = tmp_path / "t.wav"
    take = make(path)
    crash = tmp_path / "crash"
    crash.mkdir()
    shutil.copy(path, crash / "t.wav")
    shutil.copy(marker_path(path), marker_path(crash / "t.wav"))
    take.close()
    assert main(["take", "repair", str(crash)]) == 0
    assert "1 take repaired" in capsys.readouterr().out
    assert read_wav(crash / "t.wav").frames == 4800
    assert not marker_path(crash / "t.wav").exists()
