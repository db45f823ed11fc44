"""The LTC decoder on real recordings nobody here made: excerpts in tests/data (MIT, ISC),
and the whole snapshot in ../shared/ltc-samples when it is there (GPL files are only read
from there, never copied)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA

from stagebox.ltc import decode_all
from stagebox.timecode import Rate, Timecode
from stagebox.wavfile import read_wav

RATE_24 = Rate.parse("24")


def _decode(path, channel=0):
    wav = read_wav(path)
    return decode_all(wav.samples[:, channel], wav.sample_rate), wav


def _consecutive(frames, first: str, count: int, rate: Rate):
    start = Timecode.parse(first, rate)
    assert [f.label for f in frames] == [str(start + k) for k in range(count)]


def _ltcdump(path):
    """(label, start) from libltc ltcdump output (`.` before the frames in its labels)."""
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        label = parts[1]
        sep = ";" if label[8] == "." and "df" in path.name else ":"
        rows.append((label[:8] + sep + label[9:], int(parts[3])))
    return rows


def test_pico_timecode_excerpt_across_a_drop_frame_minute():
    """pico-timecode's 29.97 DF output: labels and frame starts as upstream's ltcdump has them
    (its starts are libltc's whole-sample estimates: within 3 samples)."""
    frames, wav = _decode(DATA / "pico_2997df_excerpt.wav")
    expected = _ltcdump(DATA / "pico_2997df_excerpt.ltcdump")
    assert [f.label for f in frames] == [label for label, _ in expected]
    assert "00:01:59;29" in [f.label for f in frames] and "00:02:00;02" in [f.label for f in frames]
    offset = 432000  # the excerpt's first sample in the original file
    errors = [abs(f.start + offset - at) for f, (_, at) in zip(frames, expected, strict=True)]
    assert max(errors) <= 3
    # Both channels carry the same LTC.
    other = decode_all(wav.samples[:, 1], wav.sample_rate)
    assert [f.label for f in other] == [f.label for f in frames]


@pytest.mark.parametrize(
    ("name", "first"), [("vxlr1_excerpt.wav", "17:09:43:00"), ("vxlr7_excerpt.wav", "17:13:23:00")]
)
def test_vxlr_differentiated_ltc_straight_from_the_file(name, first, libltc):
    """A Zoom F6 through a Rode VXLR: every transition is a decaying spike. Every frame
    decodes, on the 24 fps grid from the first sample; libltc loses most or all of them."""
    frames, wav = _decode(DATA / name)
    _consecutive(frames, first, 72, RATE_24)
    starts = np.array([f.start for f in frames])
    assert np.abs(starts - 2000 * np.arange(72)).max() < 4
    ref = libltc.decode(wav.samples[:, 0], 2000)
    assert len(ref) < 60


def test_excerpts_decode_identically_in_small_blocks():
    from stagebox.ltc import LTCDecoder

    wav = read_wav(DATA / "vxlr7_excerpt.wav")
    x = wav.samples[:, 0]
    dec = LTCDecoder(wav.sample_rate)
    frames = []
    for i in range(0, x.size, 256):
        frames.extend(dec.decode(x[i : i + 256]))
    frames.extend(dec.flush())
    assert frames == decode_all(x, wav.sample_rate)


# -- the whole snapshot (skips when ../shared/ltc-samples is absent) ----------------------

PICO = [
    ("24fps.wav", "24", "00:00:11:20", 479),
    ("25fps.wav", "25", "00:00:03:01", 499),
    ("2997fps_df.wav", "29.97df", "00:01:50;19", 599),
    ("2997fps_ndf.wav", "29.97", "00:00:08:29", 598),
    ("30fps_df.wav", "30df", "00:01:50;11", 599),
    ("30fps_ndf.wav", "30", "00:00:06:11", 599),
    ("syncio_25fps.wav", "25", "01:23:40:24", 499),
]


@pytest.mark.parametrize(("name", "rate", "first", "count"), PICO)
def test_pico_timecode_files(shared_samples, name, rate, first, count):
    """Whole files, whose RIFF size is wrong and which carry odd chunks; every frame of the
    upstream ltcdump, at its position (but the first: after a discontinuity libltc only
    guesses where its first frame began)."""
    path = shared_samples / "pico-timecode" / name
    frames, _ = _decode(path)
    _consecutive(frames, first, count, Rate.parse(rate))
    expected = _ltcdump(path.with_name(name + ".ltcdump"))
    by_label = {f.label: f for f in frames}
    for label, at in expected[1:]:
        assert abs(by_label[label].start - at) <= 3, label


LTCSYNC = [
    ("LTC_00_58_00_00__1mins_23976.wav", "23.976", "00:58:00:00", 1440),
    ("LTC_00_58_00_00__1mins_24.wav", "24", "00:58:00:00", 1440),
    ("LTC_00_58_00_00__1mins_25.wav", "25", "00:58:00:00", 1500),
    ("LTC_00_58_00_00__1mins_2997_df.wav", "29.97df", "00:58:00;02", 1800),
    ("LTC_00_58_00_00__1mins_2997_ndf.wav", "29.97", "00:58:00:00", 1801),
    ("LTC_00_58_00_00__1mins_30.wav", "30", "00:58:00:00", 1800),
    ("ltc.wav", "24", "04:49:33:12", 143),
    ("ZOOM0004_Tr1.WAV", "24", "18:34:17:03", 316),
]


@pytest.mark.parametrize(("name", "rate", "first", "count"), LTCSYNC)
def test_ltcsync_files(shared_samples, name, rate, first, count, libltc):
    """Generator files and a real Zoom H6 take. We also decode each generator file's last
    frame, which ends exactly where the file does (libltc, which needs the next frame's
    first edge, does not): one frame more than the upstream listing."""
    frames, wav = _decode(shared_samples / "ltcsync" / name)
    _consecutive(frames, first, count, Rate.parse(rate))
    ref = libltc.decode(wav.samples[:, 0], wav.sample_rate / float(Rate.parse(rate).fps))
    assert {r.label for r in ref} <= {f.label for f in frames}


def test_ltcsync_negatives(shared_samples):
    """The stereo mic pair carries no LTC: nothing. Track 2 of the same take is a mic whose
    cable picked up track 1's LTC as capacitive crosstalk (a spike, about -15 dBFS, on every
    one of track 1's transitions): what we decode there is exactly track 1's timecode, at
    track 1's positions (within the few samples the spikes lag the edges); libltc makes up
    two frames there that exist nowhere."""
    lr, _ = _decode(shared_samples / "ltcsync" / "ZOOM0004_LR.WAV")
    assert lr == []
    lr2, _ = _decode(shared_samples / "ltcsync" / "ZOOM0004_LR.WAV", channel=1)
    assert lr2 == []
    tr1, _ = _decode(shared_samples / "ltcsync" / "ZOOM0004_Tr1.WAV")
    tr2, _ = _decode(shared_samples / "ltcsync" / "ZOOM0004_Tr2.WAV")
    by_label = {f.label: f for f in tr1}
    for f in tr2:
        assert f.label in by_label
        assert abs(f.start - by_label[f.label].start) < 5


@pytest.mark.parametrize(
    ("number", "first", "count"),
    [(1, "17:09:43:00", 264), (2, "17:10:28:00", 288), (7, "17:13:18:00", 288)],
)
def test_vxlr_files_decode_completely(shared_samples, number, first, count, libltc):
    (path,) = (shared_samples / "node-smpte-ltc").glob(f"{number} - *.wav")
    frames, wav = _decode(path)
    _consecutive(frames, first, count, RATE_24)
    assert len(libltc.decode(wav.samples[:, 0], 2000)) < count // 2


@pytest.mark.parametrize("number", [4, 5, 6])
def test_vxlr_plus_files_give_only_true_frames(shared_samples, number):
    """The VXLR+ takes, which upstream could only decode the start of: every frame we find is
    on the file's 24 fps timeline (label and position agree with the bext start)."""
    (path,) = (shared_samples / "node-smpte-ltc").glob(f"{number} - *.wav")
    manifest = json.loads((shared_samples / "MANIFEST.json").read_text())
    entry = next(e for e in manifest if e["file"].endswith(path.name))
    assert entry
    frames, _ = _decode(path)
    assert len(frames) > 200
    first = Timecode.parse(frames[0].label, RATE_24)
    for f in frames:
        k = Timecode.parse(f.label, RATE_24) - first
        assert abs(f.start - frames[0].start - 2000 * k) < 4
