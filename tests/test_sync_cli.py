"""`stagebox sync` and the guide sources: a guide folder cut by timecode, the guide beside a
take, a capture channel; one-line errors naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sync_corpus as corpus

from stagebox.cli import main
from stagebox.config import ConfigError, config_from_text
from stagebox.sync.guide import (
    GuideError,
    capture_guide,
    guide_for_take,
    guide_take_path,
    scan_guide_folder,
)
from stagebox.takes.bwf import TakeFile, TakeFormat
from stagebox.takes.meta import TakeMetadata
from stagebox.timecode import RATE_25

R = corpus.RATE
TC_10H = 36000 * R  # 10:00:00:00 at 25 fps in samples since midnight


def write_bwf(path, samples, time_reference, scene="117", take="3"):
    meta = TakeMetadata(project="Nightfall", scene=scene, take=take, rate=RATE_25)
    block = np.asarray(samples, dtype=np.float32).reshape(len(samples), -1)
    f = TakeFile(
        path, TakeFormat(R, block.shape[1], 24), meta.with_file_facts(time_reference=time_reference)
    )
    f.write(block)
    return f.close()


@pytest.fixture(scope="module")
def line():
    assert corpus.espeak_available(), "espeak-ng is missing: run .ci/setup (Debian espeak-ng)"
    guide = corpus.guide_line("en", 140)
    late = corpus.take_line(guide, "en", 140, [0.0] * 4 + [0.12] + [0.0] * 4)
    return guide, corpus.room(late.audio, 1)


def test_guide_folder_cut_by_timecode_across_two_files(tmp_path, line, capsys):
    guide, take = line
    n = len(guide.audio)
    folder = tmp_path / "guides"
    folder.mkdir()
    # Production dialogue in two files that meet mid-take, with a second of reel either side.
    reel = np.concatenate([np.zeros(R), 0.5 * guide.audio, np.zeros(R)])
    cut = R + n // 2
    write_bwf(folder / "scene_a.wav", reel[:cut], TC_10H - R)
    write_bwf(folder / "scene_b.wav", reel[cut:], TC_10H - R + cut)
    (folder / "notes.txt").write_text("not audio")
    write_bwf(folder / "elsewhere.wav", np.ones(R) * 0.1, TC_10H + 10 * 3600 * R)
    take_path = write_bwf(tmp_path / "117_T003.wav", take, TC_10H)

    g = guide_for_take(take_path, guide_folder=folder)
    assert g.covered == 1.0 and len(g.sources) == 2
    np.testing.assert_allclose(g.samples, 0.5 * guide.audio, atol=2e-6)  # 24-bit rounding

    assert main(["sync", str(take_path), "--guide-dir", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "check words" and data["start"] == "10:00:00:00"
    assert abs(data["worst_at_s"] - guide.onsets[4]) <= 0.04
    assert data["worst_timecode"] == str(
        __import__("stagebox.timecode", fromlist=["Timecode"]).Timecode.from_frames(
            36000 * 25 + int(data["worst_at_s"] * 25), RATE_25
        )
    )
    assert sorted(data["guide"]) == sorted(str(p) for p in g.sources)


def test_guide_beside_the_take_and_a_plot(tmp_path, line, capsys):
    guide, take = line
    take_path = write_bwf(tmp_path / "117_T003.wav", take, TC_10H)
    write_bwf(guide_take_path(take_path), 0.5 * guide.audio, TC_10H)
    out_png = tmp_path / "sync.png"
    assert main(["sync", str(take_path), "--plot", str(out_png)]) == 0
    text = capsys.readouterr().out
    assert "verdict  check words at 10:00:" in text and "+3.0 fr" in text
    assert "worst    +120.0 ms" in text
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    img = pg.image.load(str(out_png))
    assert img.get_size() == (1400, 720)
    # Red path lines (beyond two frames) where the late word is, green ones elsewhere.
    pixels = pg.surfarray.array3d(img)
    red = (pixels[:, :, 0] > 200) & (pixels[:, :, 1] < 90)
    green = (pixels[:, :, 1] > 180) & (pixels[:, :, 0] < 90)
    assert red.sum() > 50 and green.sum() > 500


def test_named_guide_and_a_take_with_no_guide(tmp_path, line, capsys):
    guide, take = line
    take_path = write_bwf(tmp_path / "t.wav", take, TC_10H)
    assert main(["sync", str(take_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["message"] == "cannot judge: no guide"
    # A plain WAV guide (no bext) is taken as starting with the take.
    plain = tmp_path / "guide.wav"
    import wave

    with wave.open(str(plain), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(R)
        w.writeframes((np.clip(0.5 * guide.audio, -1, 1) * 32767).astype("<i2").tobytes())
    assert main(["sync", str(take_path), "--guide", str(plain), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "check words" and abs(data["offset_ms"]) <= 5


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.wav"], "missing.wav: no such take file"),
        (["TAKE", "--guide", "nope.wav"], "nope.wav: no such guide file"),
        (["TAKE", "--guide-dir", "nodir"], "nodir: guide folder does not exist"),
        (["TAKE", "--rate", "26"], "--rate: unknown timecode rate '26'"),
        (["TAKE", "--channel", "3"], "--channel 3: "),
        (["NOTWAV"], "NOTWAV: not a RIFF/RF64 file"),
        (["PLAIN", "--guide-dir", "DIR"], "no bext TimeReference"),
        (["TAKE", "--guide-dir", "DIR"], "no guide covers"),
    ],
)
def test_errors_are_one_line_naming_the_file(tmp_path, capsys, args, needle):
    take_path = write_bwf(tmp_path / "take.wav", np.zeros(R), TC_10H)
    notwav = tmp_path / "notes.wav"
    notwav.write_bytes(b"hello")
    plain = tmp_path / "plain.wav"
    import wave

    with wave.open(str(plain), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(R)
        w.writeframes(b"\0\0" * R)
    empty = tmp_path / "guides"
    empty.mkdir()
    subs = {
        "TAKE": str(take_path),
        "NOTWAV": str(notwav),
        "PLAIN": str(plain),
        "DIR": str(empty),
        "missing.wav": str(tmp_path / "missing.wav"),
        "nope.wav": str(tmp_path / "nope.wav"),
        "nodir": str(tmp_path / "nodir"),
    }
    argv = ["sync", *[subs.get(a, a) for a in args]]
    if args[0] == "PLAIN":
        argv += ["--rate", "25"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("stagebox: ")
    for key, value in subs.items():
        needle = needle.replace(key, value)
    assert needle in err


def test_guide_folder_at_another_sample_rate_is_named(tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    meta = TakeMetadata(scene="1", take="1", rate=RATE_25)
    f = TakeFile(
        folder / "dx.wav",
        TakeFormat(44100, 1, 24),
        meta.with_file_facts(time_reference=36000 * 44100),
    )
    f.write(np.zeros((44100, 1), dtype=np.float32))
    f.close()
    take_path = write_bwf(tmp_path / "t.wav", np.zeros(R // 2), TC_10H)
    with pytest.raises(GuideError, match=r"dx.wav: 44100 Hz, the take is 48000 Hz"):
        guide_for_take(take_path, guide_folder=folder)
    files, notes = scan_guide_folder(folder)
    assert [f.start for f in files] == [36000 * 44100] and notes == []


def test_capture_channel_is_the_guide():
    block = np.zeros((100, 3), dtype=np.float32)
    block[:, 2] = 0.25
    assert np.all(capture_guide(block, 3) == 0.25)
    with pytest.raises(GuideError, match="guide channel 4"):
        capture_guide(block, 4)


def test_config_keys_for_the_guide(tmp_path):
    text = '[audio]\nhat = "usb"\ncapture_channels = 4\nltc_channel = 2\nmic_channels = [1]\n'
    cfg = config_from_text(
        text.replace("mic_channels = [1]\n", "mic_channels = [1]\nguide_channel = 3\n")
        + f'[sync]\nguide_file = false\nguide_folder = "{tmp_path}"\n'
    )
    assert cfg.audio.guide_channel == 3 and cfg.sync.guide_file is False
    assert cfg.sync.guide_folder == tmp_path and cfg.sync.max_offset_ms == 1000.0
    for channel, reason in [
        (5, "does not exist"),
        (2, "is the LTC input"),
        (1, "audio.mic_channels"),
    ]:
        with pytest.raises(ConfigError) as err:
            config_from_text(text + f"guide_channel = {channel}\n")
        assert "audio.guide_channel" in str(err.value) and reason in str(err.value)


def test_cue_sheet_words_name_the_late_word(tmp_path, line, capsys):
    guide, take = line
    take_path = write_bwf(tmp_path / "117_T003.wav", take, TC_10H)
    write_bwf(guide_take_path(take_path), 0.5 * guide.audio, TC_10H)

    def mark(k):
        frames = int(guide.onsets[k] * 25)
        return f"{{10:00:{frames // 25:02d}:{frames % 25:02d}}}"

    words = " ".join(f"{mark(k)}{w}" for k, w in enumerate(corpus.LINE))
    sheet = tmp_path / "reel2.csv"
    sheet.write_text(
        "# rate: 25\nCue,Character,TC In,TC Out,Dialogue\n"
        f'117,JOHN,10:00:00:00,10:00:07:00,"{words}"\n'
    )
    assert main(["sync", str(take_path), "--cues", str(sheet), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["worst_word"] == "trust" and data["checks"][0]["word"] == "trust"
    assert main(["sync", str(take_path), "--cues", str(tmp_path / "none.csv")]) == 2
    assert "none.csv" in capsys.readouterr().err
