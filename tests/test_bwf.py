"""The take file: layout, bext and iXML bytes, exact audio, O_EXCL, RF64, repair, in-place edits.

Headers are checked by walking the bytes here with struct (not with stagebox.wavfile), bext at
the offsets EBU Tech 3285 gives, iXML with xml.etree; expected samples are computed from the
integers fed in.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import struct
import xml.etree.ElementTree as ET
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagebox.takes.bwf import (
    RF64_THRESHOLD,
    TakeFile,
    TakeFormat,
    read_take_metadata,
    size_patches,
    update_take_metadata,
)
from stagebox.takes.disk import TakeError, TakeExistsError, marker_path
from stagebox.takes.meta import TakeMetadata, Track, build_ixml, metadata_from_chunks
from stagebox.takes.repair import repair_takes
from stagebox.timecode import RATE_25, RATE_2997DF, RATE_23976
from stagebox.wavfile import WavError, read_wav, read_wav_info

NOW = datetime(2026, 3, 14, 9, 26, 53)
META = TakeMetadata(
    project="Nightfall & Co <ADR>",
    scene="R2-117",
    take="4",
    note='line "again", softer',
    tape="Day 12",
    rate=RATE_2997DF,
    tracks=(Track("Boom", "MIC"), Track("LTC", "TIMECODE")),
)


def walk(raw: bytes) -> list[tuple[bytes, int, int]]:
    """(id, body offset, size field) for every chunk, trusting the sizes (our files are exact)."""
    out, off = [], 12
    while off + 8 <= len(raw):
        cid, size = raw[off : off + 4], struct.unpack("<I", raw[off + 4 : off + 8])[0]
        out.append((cid, off + 8, size))
        if cid == b"data" and size == 0xFFFFFFFF:
            break
        off += 8 + size + (size & 1)
    return out


def make_take(path, fmt=None, meta=META, time_reference=0, **kw) -> TakeFile:
    fmt = fmt or TakeFormat(48000, 2, 24)
    return TakeFile(path, fmt, meta.with_file_facts(time_reference=time_reference), now=NOW, **kw)


def s32_block(frames: int, channels: int, start: int = 0) -> np.ndarray:
    """A deterministic S32 block whose 24-bit content is known (low byte zero)."""
    n = np.arange(start, start + frames, dtype=np.int64)[:, None] * channels + np.arange(channels)
    v24 = (n * 2654435761) % (1 << 24) - (1 << 23)
    return (v24 << 8).astype(np.int32)


def int24_bytes(block32: np.ndarray) -> bytes:
    return b"".join(int(v >> 8).to_bytes(3, "little", signed=True) for v in block32.ravel())


# ---------------------------------------------------------------------------------------------
# Layout, bext, iXML


def test_layout_is_riff_junk_fmt_bext_ixml_aligned_data(tmp_path):
    path = tmp_path / "take.wav"
    take = make_take(path)
    block = s32_block(1000, 2)
    take.write(block)
    take.close()
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    assert struct.unpack("<I", raw[4:8])[0] == len(raw) - 8
    chunks = walk(raw)
    ids = [c[0] for c in chunks]
    assert ids[:4] == [b"JUNK", b"fmt ", b"bext", b"iXML"] and ids[-1] == b"data"
    assert chunks[0][1:] == (20, 28)  # the ds64 reservation at 12, 28 bytes
    assert chunks[1][1] == 56  # fmt body at 48 + 8
    data_off, data_size = chunks[-1][1:]
    assert data_off % 4096 == 0 and data_off >= 4096
    assert data_size == 1000 * 6 and data_off + data_size == len(raw)
    assert raw[data_off:] == int24_bytes(block)
    tag, ch, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", raw[56:72])
    assert (tag, ch, rate, byte_rate, align, bits) == (1, 2, 48000, 288000, 6, 24)
    # No marker left behind.
    assert not marker_path(path).exists() and os.listdir(tmp_path) == ["take.wav"]


def test_bext_bytes_at_spec_offsets(tmp_path):
    path = tmp_path / "take.wav"
    # 23:59:59:29 at 192 kHz is more than 2^32 samples: the high word is used.
    tref = (23 * 3600 + 59 * 60 + 59) * 192000 + 123
    fmt = TakeFormat(192000, 2, 24)
    make_take(path, fmt, time_reference=tref).close()
    raw = path.read_bytes()
    (bext_off, bext_size) = next((o, s) for c, o, s in walk(raw) if c == b"bext")
    bext = raw[bext_off : bext_off + bext_size]
    assert bext[0:256].rstrip(b"\0") == b"Nightfall & Co <ADR> cue R2-117 take 4"
    assert bext[256:288].rstrip(b"\0") == b"stagebox"
    ref = bext[288:320].rstrip(b"\0")
    assert 0 < len(ref) <= 32
    assert bext[320:330] == b"2026-03-14" and bext[330:338] == b"09:26:53"
    low, high = struct.unpack("<II", bext[338:346])
    assert tref > 2**32 and high == tref >> 32 and low == tref & 0xFFFFFFFF
    assert struct.unpack("<H", bext[346:348])[0] == 1
    assert bext[348:602] == bytes(254)  # UMID, loudness, reserved: zero
    assert bext[602:].rstrip(b"\0") == b"A=PCM,F=192000,W=24,M=stereo,T=stagebox 0.1.0\r\n"
    assert bext_size % 2 == 0


def test_ixml_parses_with_etree(tmp_path):
    path = tmp_path / "take.wav"
    tref = 10 * 3600 * 48000  # 10:00:00;00 at 48 kHz
    make_take(path, time_reference=tref).close()
    raw = path.read_bytes()
    (off, size) = next((o, s) for c, o, s in walk(raw) if c == b"iXML")
    body = raw[off : off + size]
    assert b"&amp;" in body and b"&lt;ADR&gt;" in body
    root = ET.fromstring(body.decode("utf-8").rstrip())
    assert root.tag == "BWFXML"
    assert root.findtext("PROJECT") == "Nightfall & Co <ADR>"
    assert root.findtext("SCENE") == "R2-117"
    assert root.findtext("TAKE") == "4"
    assert root.findtext("CIRCLED") == "FALSE"
    assert root.findtext("NOTE") == 'line "again", softer'
    assert root.findtext("TAPE") == "Day 12"
    speed = root.find("SPEED")
    assert speed.findtext("TIMECODE_RATE") == "30000/1001"
    assert speed.findtext("MASTER_SPEED") == "30000/1001"
    assert speed.findtext("CURRENT_SPEED") == "30000/1001"
    assert speed.findtext("TIMECODE_FLAG") == "DF"
    assert speed.findtext("FILE_SAMPLE_RATE") == "48000"
    assert speed.findtext("DIGITIZER_SAMPLE_RATE") == "48000"
    assert speed.findtext("AUDIO_BIT_DEPTH") == "24"
    assert speed.findtext("TIMESTAMP_SAMPLE_RATE") == "48000"
    hi = int(speed.findtext("TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI"))
    lo = int(speed.findtext("TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO"))
    assert hi * 2**32 + lo == tref == 1_728_000_000
    tracks = root.find("TRACK_LIST")
    assert tracks.findtext("TRACK_COUNT") == "2"
    got = [
        (
            t.findtext("CHANNEL_INDEX"),
            t.findtext("INTERLEAVE_INDEX"),
            t.findtext("NAME"),
            t.findtext("FUNCTION"),
        )
        for t in tracks.findall("TRACK")
    ]
    assert got == [("1", "1", "Boom", "MIC"), ("2", "2", "LTC", "TIMECODE")]
    # The chunk is padded (room for a longer note later) with spaces after the root element.
    assert size >= 8192 and body.rstrip(b" ").endswith(b"</BWFXML>\r\n")


def test_read_take_metadata_round_trip(tmp_path):
    path = tmp_path / "take.wav"
    make_take(path, time_reference=5_000_000_000).close()
    meta = read_take_metadata(path)
    assert (meta.project, meta.scene, meta.take, meta.circled) == (
        "Nightfall & Co <ADR>",
        "R2-117",
        "4",
        False,
    )
    assert meta.rate == RATE_2997DF and meta.time_reference == 5_000_000_000
    assert meta.tracks == META.tracks
    assert (meta.sample_rate, meta.bits, meta.channels) == (48000, 24, 2)
    assert meta.origination_date == "2026-03-14" and meta.originator == "stagebox"


def test_read_take_metadata_of_a_zoom_f6_file(shared_samples):
    path = shared_samples / "node-smpte-ltc" / "1 - 24bit linear - VXLR - MIC LEVEL.wav"
    meta = read_take_metadata(path)
    assert (meta.scene, meta.take, meta.project) == ("201106", "002", "1_YOUTUBE")
    assert meta.rate is not None and meta.rate.name == "24" and not meta.circled
    assert meta.time_reference == (17 * 3600 + 9 * 60 + 43) * 48000
    assert int(meta.ixml["SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO"]) == meta.time_reference
    assert meta.tracks == (Track("Tr1"),)
    assert meta.originator == "ZOOM F6"
    with pytest.raises(WavError, match="not a Broadcast WAV"):
        read_take_metadata(shared_samples / "pico-timecode" / "24fps.wav")


@settings(max_examples=80, deadline=None)
@given(
    text=st.text(max_size=60),
    circled=st.booleans(),
    rate=st.sampled_from([RATE_25, RATE_2997DF, RATE_23976]),
    tref=st.integers(0, 2**40),
)
def test_ixml_escapes_anything(text, circled, rate, tref):
    meta = TakeMetadata(
        project=text,
        scene=text[::-1],
        take="1",
        note=text,
        circled=circled,
        rate=rate,
        time_reference=tref,
        sample_rate=48000,
        bits=24,
        channels=1,
    )
    xml = build_ixml(meta)
    ET.fromstring(xml.encode("utf-8"))  # well-formed whatever the text
    back = metadata_from_chunks(None, xml.encode("utf-8"))

    def clean(s: str) -> str:
        # What XML 1.0 keeps: line ends normalised to \n, forbidden characters dropped.
        return "".join(
            c
            for c in s.replace("\r\n", "\n").replace("\r", "\n")
            if c in "\t\n" or (ord(c) >= 0x20 and c not in "\ufffe\uffff")
        )

    assert back.project == clean(text) and back.note == clean(text)
    assert back.scene == clean(text[::-1])
    assert back.circled == circled and back.rate == rate
    hi = int(back.ixml["SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI"])
    lo = int(back.ixml["SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO"])
    assert hi << 32 | lo == tref


# ---------------------------------------------------------------------------------------------
# Audio formats


def test_audio_bytes_exact_for_every_format(tmp_path):
    floats = np.array([[0.0, 0.5], [-1.0, 1.0], [0.25, -0.25], [2.0, -2.0]], dtype=np.float32)
    ints16 = [0, 16384, -32768, 32767, 8192, -8192, 32767, -32768]
    ints24 = [0, 1 << 22, -(1 << 23), (1 << 23) - 1, 1 << 21, -(1 << 21), (1 << 23) - 1, -(1 << 23)]
    ints32 = [0, 1 << 30, -(1 << 31), (1 << 31) - 1, 1 << 29, -(1 << 29), (1 << 31) - 1, -(1 << 31)]
    expected = {
        (16, "int"): b"".join(v.to_bytes(2, "little", signed=True) for v in ints16),
        (24, "int"): b"".join(v.to_bytes(3, "little", signed=True) for v in ints24),
        (32, "int"): b"".join(v.to_bytes(4, "little", signed=True) for v in ints32),
        (32, "float"): b"".join(struct.pack("<f", v) for v in floats.ravel()),
    }
    for (bits, kind), want in expected.items():
        path = tmp_path / f"t{bits}{kind}.wav"
        take = make_take(path, TakeFormat(48000, 2, bits, kind))
        take.write(floats)
        take.close()
        info = read_wav_info(path)
        raw = path.read_bytes()
        assert raw[info.data_offset :] == want, (bits, kind)
        assert (info.bits, info.format) == (bits, kind)


def test_integer_input_is_taken_at_its_dtype_full_scale(tmp_path):
    path = tmp_path / "t.wav"
    take = make_take(path, TakeFormat(48000, 2, 24))
    block = s32_block(999, 2)  # odd frame count: 999 * 6 bytes is even; use mono for odd below
    take.write(block)
    take.write(np.array([[1000, -1000]], dtype=np.int16))  # int16 -> << 8 into 24 bits
    take.close()
    info = read_wav_info(path)
    raw = path.read_bytes()[info.data_offset :]
    assert raw[: 999 * 6] == int24_bytes(block)
    assert raw[999 * 6 :] == (1000 << 8).to_bytes(3, "little", signed=True) + (-1000 << 8).to_bytes(
        3, "little", signed=True
    )


def test_odd_data_size_gets_its_pad_byte(tmp_path):
    path = tmp_path / "mono.wav"
    take = make_take(path, TakeFormat(48000, 1, 24), meta=META.with_file_facts(tracks=()))
    take.write(s32_block(5, 1))
    take.close()
    raw = path.read_bytes()
    data_off, size = walk(raw)[-1][1:]
    assert size == 15 and len(raw) == data_off + 16 and raw[-1] == 0
    assert struct.unpack("<I", raw[4:8])[0] == len(raw) - 8
    assert read_wav(path).frames == 5


def test_many_channels_use_extensible(tmp_path):
    path = tmp_path / "six.wav"
    take = make_take(path, TakeFormat(96000, 6, 32, "float"), meta=META.with_file_facts(tracks=()))
    block = np.linspace(-1, 1, 60, dtype=np.float32).reshape(10, 6)
    take.write(block)
    take.close()
    raw = path.read_bytes()
    _, off, size = walk(raw)[1]
    assert size == 40
    tag, ch, rate, _, align, bits, cb, valid, mask = struct.unpack(
        "<HHIIHHHHI", raw[off : off + 24]
    )
    assert (tag, ch, rate, align, bits, cb, valid, mask) == (0xFFFE, 6, 96000, 24, 32, 22, 32, 0)
    assert raw[off + 24 : off + 40] == bytes.fromhex("0300000000001000800000aa00389b71")
    np.testing.assert_array_equal(read_wav(path).samples, block)
    root = ET.fromstring(read_wav_info(path).chunks["iXML"].decode().rstrip())
    assert [t.findtext("NAME") for t in root.iter("TRACK")] == [f"Ch{i}" for i in range(1, 7)]


def test_float_mono_fmt_is_18_bytes(tmp_path):
    path = tmp_path / "f.wav"
    make_take(path, TakeFormat(44100, 1, 32, "float"), meta=META.with_file_facts(tracks=())).close()
    _, off, size = walk(path.read_bytes())[1]
    assert size == 18
    assert struct.unpack("<H", path.read_bytes()[off : off + 2])[0] == 3


def test_bad_formats_are_refused(tmp_path):
    for args in [
        (48000, 2, 8),
        (48000, 2, 20),
        (48000, 0, 24),
        (100, 1, 24),
        (48000, 1, 16, "float"),
    ]:
        with pytest.raises(ValueError):
            TakeFormat(*args)
    with pytest.raises(ValueError, match="2 track names given for a 1-channel take"):
        make_take(tmp_path / "x.wav", TakeFormat(48000, 1, 24))
    assert not (tmp_path / "x.wav").exists()


# ---------------------------------------------------------------------------------------------
# Never overwrite


def test_existing_take_is_never_overwritten(tmp_path):
    path = tmp_path / "take.wav"
    take = make_take(path)
    take.write(s32_block(100, 2))
    take.close()
    before = path.read_bytes()
    with pytest.raises(TakeExistsError, match="already exists") as err:
        make_take(path)
    assert str(path) in str(err.value) and isinstance(err.value, FileExistsError)
    assert path.read_bytes() == before
    assert not marker_path(path).exists()
    # Any file, even an empty one, is protected.
    other = tmp_path / "other.wav"
    other.write_bytes(b"")
    with pytest.raises(TakeExistsError):
        make_take(other)
    assert other.read_bytes() == b""


# ---------------------------------------------------------------------------------------------
# RF64


def test_rf64_conversion_with_a_small_threshold(tmp_path):
    path = tmp_path / "long.wav"
    take = make_take(path, rf64_threshold=60_000)
    first = s32_block(5000, 2)  # 30000 bytes: still RIFF
    take.write(first)
    take.sync()
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[12:16] == b"JUNK"
    second = s32_block(10000, 2, start=5000)  # now past 60000 bytes of RIFF: RF64
    take.write(second)
    take.close()
    raw = path.read_bytes()
    assert raw[:4] == b"RF64" and struct.unpack("<I", raw[4:8])[0] == 0xFFFFFFFF
    assert raw[12:16] == b"ds64" and struct.unpack("<I", raw[16:20])[0] == 28
    riff, data, frames, table = struct.unpack("<QQQI", raw[20:48])
    data_off = read_wav_info(path).data_offset
    assert riff == len(raw) - 8 and data == 15000 * 6 and frames == 15000 and table == 0
    assert struct.unpack("<I", raw[data_off - 4 : data_off])[0] == 0xFFFFFFFF
    assert raw[data_off - 8 : data_off - 4] == b"data"
    assert raw[data_off:] == int24_bytes(first) + int24_bytes(second)
    audio = read_wav(path)
    assert audio.container == "RF64" and audio.frames == 15000
    assert audio.header_consistent


def test_rf64_size_rules_at_the_real_limit():
    data_offset = 12288
    # The largest RIFF size that fits in 32 bits stays RIFF...
    fits = 0xFFFFFFFF - (data_offset - 8)
    fits -= fits % 6
    patches = dict(size_patches(data_offset, 6, fits, RF64_THRESHOLD))
    assert patches[0][:4] == b"RIFF"
    assert struct.unpack("<I", patches[0][4:])[0] == data_offset - 8 + fits
    assert struct.unpack("<I", patches[data_offset - 4])[0] == fits
    # ...one more frame makes it RF64 with every size in ds64.
    patches = dict(size_patches(data_offset, 6, fits + 6, RF64_THRESHOLD))
    assert patches[0] == b"RF64\xff\xff\xff\xff"
    assert patches[12] == b"ds64" + struct.pack("<I", 28)
    assert struct.unpack("<QQQI", patches[20]) == (
        data_offset - 8 + fits + 6,
        fits + 6,
        (fits + 6) // 6,
        0,
    )
    assert patches[data_offset - 4] == b"\xff\xff\xff\xff"


def copy_crashed(src, folder):
    """The on-disk state of an open take, as a crash would leave it (take + marker)."""
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    shutil.copy(marker_path(src), marker_path(folder / src.name))
    return folder / src.name


def test_repair_makes_a_sparse_5_gib_take_rf64(tmp_path):
    path = tmp_path / "huge.wav"
    take = make_take(path)
    take.write(s32_block(48000, 2))
    take.sync()
    crashed = copy_crashed(path, tmp_path / "crash")
    take.close()
    data_offset = read_wav_info(path).data_offset
    big = 5 * 2**30 + 4  # audio bytes, not a whole number of 6-byte frames
    os.truncate(crashed, data_offset + big)  # sparse: no 5 GiB written
    assert repair_takes(crashed.parent) == [crashed]
    with open(crashed, "rb") as f:
        head = f.read(48)
    whole = big // 6 * 6
    assert head[:4] == b"RF64" and head[12:16] == b"ds64"
    riff, data, frames, _ = struct.unpack("<QQQI", head[20:48])
    assert data == whole and frames == whole // 6
    assert riff + 8 == os.path.getsize(crashed) == data_offset + whole
    info = read_wav_info(crashed)
    assert info.frames == whole // 6 and info.container == "RF64" and info.header_consistent
    np.testing.assert_array_equal(read_wav(crashed, frames=48000).samples, read_wav(path).samples)


# ---------------------------------------------------------------------------------------------
# Repair


def test_repair_recovers_unsynced_audio_and_leaves_finished_takes_alone(tmp_path):
    finished = tmp_path / "done.wav"
    t = make_take(finished)
    t.write(s32_block(100, 2))
    t.close()
    finished_bytes, finished_mtime = finished.read_bytes(), finished.stat().st_mtime_ns

    path = tmp_path / "live.wav"
    take = make_take(path)
    a, b = s32_block(4800, 2), s32_block(2401, 2, start=4800)
    take.write(a)
    take.sync()  # the header says 4800 frames
    take.write(b)  # on disk, not in the header
    crash = tmp_path / "crash"
    crashed = copy_crashed(path, crash)
    take.close()
    # A partial frame at the end (the writer died mid-write) and a stranger's marker.
    with open(crashed, "ab") as f:
        f.write(b"\x01\x02\x03\x04")
    (crash / ".gone.wav.open").write_text(json.dumps({"data_offset": 4096, "block_align": 6}))
    shutil.copy(finished, crash / "done.wav")
    os.utime(crash / "done.wav", ns=(finished_mtime, finished_mtime))
    info = read_wav_info(crashed)
    assert info.data_size_field == 4800 * 6  # stale before repair

    assert repair_takes(crash) == [crashed]
    audio = read_wav(crashed)
    assert audio.frames == 7201 and audio.header_consistent
    raw = crashed.read_bytes()
    assert raw[audio.data_offset :] == int24_bytes(a) + int24_bytes(b)
    assert not marker_path(crashed).exists() and not (crash / ".gone.wav.open").exists()
    assert (crash / "done.wav").read_bytes() == finished_bytes
    assert (crash / "done.wav").stat().st_mtime_ns == finished_mtime
    assert repair_takes(crash) == []  # nothing left to do


def test_repair_refuses_a_take_that_does_not_match_its_marker(tmp_path, caplog):
    stranger = tmp_path / "x.wav"
    stranger.write_bytes(b"RIFF\x04\x00\x00\x00WAVE" + bytes(5000))
    marker_path(stranger).write_text(json.dumps({"data_offset": 4096, "block_align": 6}))
    bad = tmp_path / "y.wav"
    bad.write_bytes(b"precious")
    marker_path(bad).write_text("{not json")
    before = stranger.read_bytes()
    assert repair_takes(tmp_path) == []
    assert stranger.read_bytes() == before and bad.read_bytes() == b"precious"
    assert marker_path(stranger).exists() and marker_path(bad).exists()
    assert "header does not match its marker" in caplog.text and "unreadable" in caplog.text


def test_repair_of_a_take_that_crashed_before_any_audio(tmp_path):
    path = tmp_path / "empty.wav"
    take = make_take(path)
    crashed = copy_crashed(path, tmp_path / "crash")
    take.close()
    assert repair_takes(crashed.parent) == [crashed]
    audio = read_wav(crashed)
    assert audio.frames == 0 and audio.header_consistent


# ---------------------------------------------------------------------------------------------
# In-place metadata edits


def test_update_take_metadata_in_place(tmp_path):
    path = tmp_path / "take.wav"
    take = make_take(path)
    take.write(s32_block(2000, 2))
    take.close()
    info = read_wav_info(path)
    raw = path.read_bytes()
    audio_hash = hashlib.sha256(raw[info.data_offset :]).hexdigest()
    size = len(raw)

    meta = update_take_metadata(path, circled=True, note="best one, use <this> & that")
    assert meta.circled and meta.note == "best one, use <this> & that"
    raw2 = path.read_bytes()
    assert len(raw2) == size
    assert hashlib.sha256(raw2[info.data_offset :]).hexdigest() == audio_hash
    assert raw2[: info.spans["iXML"][0]] == raw[: info.spans["iXML"][0]]  # bext etc. untouched
    root = ET.fromstring(read_wav_info(path).chunks["iXML"].decode().rstrip())
    assert root.findtext("CIRCLED") == "TRUE"
    assert root.findtext("NOTE") == "best one, use <this> & that"
    assert root.findtext("SCENE") == "R2-117"  # everything else kept
    assert root.find("SPEED").findtext("TIMECODE_RATE") == "30000/1001"

    update_take_metadata(path, circled=False)
    assert read_take_metadata(path).circled is False
    assert read_take_metadata(path).note == "best one, use <this> & that"

    with pytest.raises(TakeError, match="reserved chunk holds") as err:
        update_take_metadata(path, note="x" * 20000)
    assert err.value.errno == errno.EFBIG and str(path) in str(err.value)
    assert read_take_metadata(path).note == "best one, use <this> & that"


def test_update_refuses_an_open_take(tmp_path):
    path = tmp_path / "take.wav"
    take = make_take(path)
    with pytest.raises(TakeError, match="still open"):
        update_take_metadata(path, circled=True)
    take.close(note="closing note", circled=True)
    meta = read_take_metadata(path)
    assert meta.circled and meta.note == "closing note"


def test_ixml_reserve_grows_for_many_tracks_and_keeps_room_for_a_note(tmp_path):
    path = tmp_path / "wide.wav"
    tracks = tuple(Track(f"Mic {i} <{i}>", "MIC") for i in range(64))
    take = make_take(path, TakeFormat(48000, 64, 16), meta=META.with_file_facts(tracks=tracks))
    take.write(np.zeros((10, 64), dtype=np.float32))
    take.close()
    info = read_wav_info(path)
    size = info.spans["iXML"][1]
    assert size > 8192 and size % 1024 == 0 and info.data_offset % 4096 == 0
    root = ET.fromstring(info.chunks["iXML"].decode().rstrip())
    assert root.find("TRACK_LIST").findtext("TRACK_COUNT") == "64"
    assert [t.findtext("NAME") for t in root.iter("TRACK")][-1] == "Mic 63 <63>"
    update_take_metadata(path, note="n" * 1500)  # the 2 KiB headroom holds a long note
    assert read_take_metadata(path).note == "n" * 1500
