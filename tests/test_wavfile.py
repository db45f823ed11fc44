"""The tolerant WAV reader, against third-party files and files built here byte by byte.

Expected sample values are computed independently of the reader: from the integers written
into the crafted files, or by decoding the real files' bytes at the offsets their chunk tables
give (checked by hand against MANIFEST.json and a hex dump).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagebox.wavfile import WavError, WavReader, read_wav, read_wav_info

# ---------------------------------------------------------------------------------------------
# Byte-level builders (deliberately not the take writer)


def chunk(cid: bytes, body: bytes, *, size: int | None = None, pad: bool = True) -> bytes:
    n = len(body) if size is None else size
    out = cid + struct.pack("<I", n) + body
    if pad and len(body) % 2:
        out += b"\x00"
    return out


def fmt_pcm(channels: int, rate: int, bits: int, tag: int = 1) -> bytes:
    align = channels * bits // 8
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits))


GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def fmt_extensible(channels: int, rate: int, bits: int, valid: int, sub: int, mask: int) -> bytes:
    align = channels * bits // 8
    body = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * align, align, bits)
    body += struct.pack("<HHI", 22, valid, mask) + struct.pack("<H", sub) + GUID_TAIL
    return chunk(b"fmt ", body)


def riff(chunks: bytes, *, form: bytes = b"RIFF", size: int | None = None) -> bytes:
    body = b"WAVE" + chunks
    return form + struct.pack("<I", len(body) if size is None else size) + body


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


STEREO16 = np.array([[0, -32768], [16384, 32767], [-16384, 1], [100, -100]], dtype="<i2")
STEREO16_F = STEREO16.astype(np.float64) / 32768.0


def test_plain_16_bit_stereo(tmp_path):
    path = write(
        tmp_path, "a.wav", riff(fmt_pcm(2, 48000, 16) + chunk(b"data", STEREO16.tobytes()))
    )
    audio = read_wav(path)
    assert (audio.sample_rate, audio.channels, audio.bits, audio.format) == (48000, 2, 16, "int")
    assert audio.frames == 4 and audio.data_offset == 44
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (4, 2)
    np.testing.assert_array_equal(audio.samples, STEREO16_F)
    assert audio.header_consistent


@pytest.mark.parametrize("riff_size", [4, 36, 0, 0xFFFFFFFF, 10_000_000])
def test_wrong_riff_size_is_ignored(tmp_path, riff_size):
    body = fmt_pcm(2, 48000, 16) + chunk(b"data", STEREO16.tobytes())
    path = write(tmp_path, "a.wav", riff(body, size=riff_size))
    audio = read_wav(path)
    np.testing.assert_array_equal(audio.samples, STEREO16_F)
    assert audio.riff_size_field == riff_size
    assert not audio.header_consistent


@pytest.mark.parametrize("data_size", [0, 0xFFFFFFFF, 1_000_000])
def test_unfinalised_or_truncated_data_takes_whole_frames_present(tmp_path, data_size):
    # A crash left the size field wrong, and the last frame is cut after 3 of its 4 bytes.
    pcm = STEREO16.tobytes() + b"\x01\x02\x03"
    body = fmt_pcm(2, 48000, 16) + b"data" + struct.pack("<I", data_size) + pcm
    path = write(tmp_path, "a.wav", riff(body, size=0))
    audio = read_wav(path)
    assert audio.frames == 4
    np.testing.assert_array_equal(audio.samples, STEREO16_F)


def test_unknown_and_odd_chunks_are_kept(tmp_path):
    atem = b'{"version": 1}'  # 14 bytes
    smpl = b"abc"  # odd: a pad byte follows
    body = (
        fmt_pcm(2, 48000, 16)
        + chunk(b"JUNK", bytes(28))
        + chunk(b"atem", atem)
        + chunk(b"smpl", smpl)
        + chunk(b"PAD ", bytes(5))
        + chunk(b"meta", b"\x00" * 4)
        + chunk(b"data", STEREO16.tobytes())
        + chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00ab\x00")  # after the audio
    )
    path = write(tmp_path, "a.wav", riff(body))
    audio = read_wav(path)
    np.testing.assert_array_equal(audio.samples, STEREO16_F)
    assert audio.chunks["atem"] == atem
    assert audio.chunks["smpl"] == smpl
    assert audio.chunks["PAD "] == bytes(5)
    assert audio.chunks["JUNK"] == bytes(28)
    assert audio.chunks["LIST"].startswith(b"INFO")
    assert "data" not in audio.chunks
    # The data offset is where the samples really are.
    raw = path.read_bytes()
    assert raw[audio.data_offset : audio.data_offset + 16] == STEREO16.tobytes()


def test_odd_chunk_missing_its_pad_byte(tmp_path):
    body = fmt_pcm(2, 48000, 16) + chunk(b"note", b"xyz", pad=False)
    body += chunk(b"data", STEREO16.tobytes())
    audio = read_wav(write(tmp_path, "a.wav", riff(body)))
    assert audio.chunks["note"] == b"xyz"
    np.testing.assert_array_equal(audio.samples, STEREO16_F)


def test_odd_data_chunk_without_pad_at_end_of_file(tmp_path):
    pcm = bytes([0, 64, 128, 192, 255])  # 8-bit unsigned mono
    body = fmt_pcm(1, 22050, 8) + chunk(b"data", pcm, pad=False)
    audio = read_wav(write(tmp_path, "a.wav", riff(body)))
    expected = (np.array([0, 64, 128, 192, 255]) - 128) / 128.0
    np.testing.assert_array_equal(audio.samples[:, 0], expected)
    assert audio.bits == 8 and audio.sample_rate == 22050


def int24(values) -> bytes:
    return b"".join(int(v).to_bytes(3, "little", signed=True) for v in values)


def test_24_bit(tmp_path):
    values = [0, 1, -1, 4194304, -8388608, 8388607]
    body = fmt_pcm(1, 48000, 24) + chunk(b"data", int24(values))
    audio = read_wav(write(tmp_path, "a.wav", riff(body)))
    assert audio.bits == 24 and audio.frames == 6
    np.testing.assert_allclose(audio.samples[:, 0], np.array(values) / 2**23, rtol=0, atol=1e-9)
    assert audio.samples[3, 0] == 0.5 and audio.samples[4, 0] == -1.0


def test_32_bit_int_and_extensible_24_in_32(tmp_path):
    values = np.array([[0, 2**30], [-(2**31), 2**31 - 1], [256, -256]], dtype="<i4")
    body = fmt_pcm(2, 96000, 32) + chunk(b"data", values.tobytes())
    audio = read_wav(write(tmp_path, "a.wav", riff(body)))
    np.testing.assert_allclose(audio.samples, values / 2**31, rtol=1e-7)
    ext = fmt_extensible(2, 96000, 32, 24, 1, 0x3) + chunk(b"data", values.tobytes())
    info = read_wav_info(write(tmp_path, "b.wav", riff(ext)))
    assert (info.bits, info.valid_bits, info.channel_mask, info.format) == (32, 24, 3, "int")
    np.testing.assert_allclose(read_wav(info.path).samples, values / 2**31, rtol=1e-7)


def test_extensible_24_bit_six_channels(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.integers(-(2**23), 2**23, size=(50, 6))
    body = fmt_extensible(6, 48000, 24, 24, 1, 0x3F) + chunk(b"data", int24(values.ravel()))
    audio = read_wav(write(tmp_path, "a.wav", riff(body)))
    assert audio.channels == 6
    np.testing.assert_allclose(audio.samples, values / 2**23, rtol=0, atol=1e-9)
    # Picking channels by index.
    two = read_wav(audio.path, channels=[5, 0])
    assert two.channels == 2
    np.testing.assert_array_equal(two.samples, audio.samples[:, [5, 0]])
    np.testing.assert_array_equal(
        read_wav(audio.path, channels=3).samples[:, 0], values[:, 3] / 2**23
    )


@pytest.mark.parametrize("dtype,extensible", [("<f4", False), ("<f8", False), ("<f4", True)])
def test_float(tmp_path, dtype, extensible):
    values = np.array([[0.0, -1.0], [0.25, 1.5], [-0.125, 1e-6]], dtype=dtype)
    bits = values.itemsize * 8
    if extensible:
        fmt = fmt_extensible(2, 48000, bits, bits, 3, 3)
    else:
        fmt = fmt_pcm(2, 48000, bits, tag=3)
    audio = read_wav(write(tmp_path, "a.wav", riff(fmt + chunk(b"data", values.tobytes()))))
    assert audio.format == "float" and audio.bits == bits
    np.testing.assert_array_equal(audio.samples, values.astype(np.float32))


def rf64(chunks_after_ds64: bytes, data_size: int, riff_size: int, table=()) -> bytes:
    body = struct.pack("<QQQI", riff_size, data_size, data_size // 4, len(table))
    for cid, size in table:
        body += cid + struct.pack("<Q", size)
    return riff(chunk(b"ds64", body) + chunks_after_ds64, form=b"RF64", size=0xFFFFFFFF)


def test_rf64_sizes_come_from_ds64(tmp_path):
    pcm = STEREO16.tobytes()
    tail = chunk(b"LIST", b"INFOjunk")
    inner = fmt_pcm(2, 48000, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm + tail
    data = rf64(inner, data_size=len(pcm) - 4, riff_size=4 + 36 + len(inner))
    audio = read_wav(write(tmp_path, "a.wav", data))
    assert audio.container == "RF64"
    # ds64 says 3 frames, although 4 (and a LIST chunk) follow: the header's count wins when
    # it fits in the file, and the chunk after the audio is found at the size ds64 gives.
    assert audio.frames == 3
    np.testing.assert_array_equal(audio.samples, STEREO16_F[:3])
    assert audio.chunks["ds64"][:8] == struct.pack("<Q", 4 + 36 + len(inner))


def test_rf64_with_unfinalised_ds64(tmp_path):
    pcm = STEREO16.tobytes()
    inner = fmt_pcm(2, 48000, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm
    audio = read_wav(write(tmp_path, "a.wav", rf64(inner, data_size=0, riff_size=0)))
    np.testing.assert_array_equal(audio.samples, STEREO16_F)


def test_ranges_and_blocks_match_the_whole(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.integers(-32768, 32768, size=(1001, 3)).astype("<i2")
    path = write(tmp_path, "a.wav", riff(fmt_pcm(3, 48000, 16) + chunk(b"data", values.tobytes())))
    whole = read_wav(path).samples
    np.testing.assert_array_equal(whole, values / 32768.0)
    part = read_wav(path, start=100, frames=250)
    assert part.frames == 250
    np.testing.assert_array_equal(part.samples, whole[100:350])
    assert read_wav(path, start=990, frames=100).frames == 11  # clipped to the file
    assert read_wav(path, start=5000).frames == 0
    with WavReader(path) as reader:
        assert reader.frames == 1001
        joined = np.concatenate(list(reader.blocks(128, channels=[2])))
        np.testing.assert_array_equal(joined[:, 0], whole[:, 2])
        np.testing.assert_array_equal(reader.read(1000, 5), whole[1000:])


@settings(max_examples=60, deadline=None)
@given(
    extras=st.lists(
        st.tuples(
            st.sampled_from([b"JUNK", b"PAD ", b"atem", b"smpl", b"meta", b"bext", b"iXML"]),
            st.binary(max_size=41),
        ),
        max_size=5,
    ),
    riff_size=st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)),
    data_size=st.sampled_from([None, 0, 0xFFFFFFFF]),
    frames=st.integers(0, 20),
)
def test_any_chunk_soup_reads_the_same_audio(
    tmp_path_factory, extras, riff_size, data_size, frames
):
    values = (
        np.arange(frames * 2, dtype=np.int32).reshape(frames, 2) * 997 % 65536 - 32768
    ).astype("<i2")
    pcm = values.tobytes()
    body = fmt_pcm(2, 44100, 16) + b"".join(chunk(cid, b) for cid, b in extras)
    body += chunk(b"data", pcm, size=data_size)
    path = tmp_path_factory.mktemp("soup") / "a.wav"
    path.write_bytes(riff(body, size=riff_size))
    audio = read_wav(path)
    np.testing.assert_array_equal(audio.samples, values / 32768.0)
    first = {}
    for cid, b in extras:
        first.setdefault(cid.decode(), b)
    for cid, b in first.items():
        assert audio.chunks[cid] == b


# ---------------------------------------------------------------------------------------------
# Errors


def test_errors_name_the_file_and_the_reason(tmp_path):
    cases = {
        "text.wav": (b"hello, this is not audio at all", "not a RIFF/RF64 file"),
        "short.wav": (b"RIF", "not a RIFF/RF64 file"),
        "rifx.wav": (b"RIFX\x00\x00\x00\x10WAVE", "RIFX"),
        "avi.wav": (b"RIFF\x00\x00\x00\x10AVI LIST", "not a RIFF/RF64 file"),
        "nofmt.wav": (riff(chunk(b"data", b"\x00\x00")), "no fmt chunk"),
        "nodata.wav": (riff(fmt_pcm(1, 48000, 16)), "no data chunk"),
        "adpcm.wav": (
            riff(fmt_pcm(1, 48000, 4, tag=2) + chunk(b"data", b"\x00\x00")),
            "unsupported format 0x0002 (ADPCM)",
        ),
        "mulaw.wav": (
            riff(fmt_pcm(1, 8000, 8, tag=7) + chunk(b"data", b"\x00\x00")),
            "unsupported format 0x0007 (mu-law)",
        ),
        "shortfmt.wav": (riff(chunk(b"fmt ", b"\x01\x00\x01\x00") + chunk(b"data", b"")), "fmt"),
        "zero.wav": (riff(fmt_pcm(0, 48000, 16) + chunk(b"data", b"")), "0 channels"),
        "f16.wav": (riff(fmt_pcm(1, 48000, 16, tag=3) + chunk(b"data", b"")), "float"),
    }
    for name, (data, reason) in cases.items():
        path = write(tmp_path, name, data)
        with pytest.raises(WavError) as err:
            read_wav(path)
        assert str(path) in str(err.value), name
        assert reason in str(err.value), (name, str(err.value))
        assert isinstance(err.value, ValueError)
    ok = write(tmp_path, "ok.wav", riff(fmt_pcm(2, 48000, 16) + chunk(b"data", b"\x00" * 8)))
    with pytest.raises(WavError, match="channel 2 does not exist"):
        read_wav(ok, channels=2)
    with pytest.raises(FileNotFoundError):
        read_wav(tmp_path / "missing.wav")


# ---------------------------------------------------------------------------------------------
# Real third-party files


def test_pico_timecode_wrong_riff_size_and_vendor_chunks(shared_samples):
    path = shared_samples / "pico-timecode" / "24fps.wav"
    raw = path.read_bytes()
    audio = read_wav(path)
    assert struct.unpack("<I", raw[4:8])[0] == 3840138 < len(raw) - 8  # the known defect
    assert (audio.sample_rate, audio.channels, audio.bits) == (48000, 2, 16)
    assert audio.data_offset == 572 and audio.frames == 960000
    assert set(audio.chunks) == {"fmt ", "atem", "smpl", "meta"}
    assert audio.chunks["atem"].lstrip().startswith(b"{")
    expected = np.frombuffer(raw, dtype="<i2", offset=572).reshape(-1, 2) / 32768.0
    np.testing.assert_array_equal(audio.samples, expected)
    info = read_wav_info(shared_samples / "pico-timecode" / "syncio_25fps.wav")
    assert info.sample_rate == 44100 and info.frames == 882000 and not info.header_consistent


def test_node_smpte_ltc_24_bit_with_bext_ixml_pad(shared_samples):
    path = shared_samples / "node-smpte-ltc" / "1 - 24bit linear - VXLR - MIC LEVEL.wav"
    raw = path.read_bytes()
    audio = read_wav(path)
    assert audio.data_offset == 131072 and audio.bits == 24 and audio.channels == 1
    assert audio.frames == (len(raw) - 131072) // 3
    assert {"bext", "iXML", "PAD "} <= set(audio.chunks)
    assert audio.chunks["iXML"].startswith(b"<?xml")
    # TimeReference at bext offset 338 (spec): 17:09:43:00 at 48 kHz per the manifest.
    assert (
        struct.unpack("<Q", audio.chunks["bext"][338:346])[0] == (17 * 3600 + 9 * 60 + 43) * 48000
    )
    for i in (0, 1, 1000, audio.frames - 1):
        b = raw[131072 + 3 * i : 131072 + 3 * i + 3]
        assert audio.samples[i, 0] == int.from_bytes(b, "little", signed=True) / 2**23


def test_node_smpte_ltc_32_bit_float(shared_samples):
    path = shared_samples / "node-smpte-ltc" / "2 - 32bit float - VXLR - MIC LEVEL.wav"
    raw = path.read_bytes()
    audio = read_wav(path)
    assert audio.format == "float" and audio.bits == 32 and audio.data_offset == 131072
    np.testing.assert_array_equal(audio.samples[:, 0], np.frombuffer(raw, "<f4", offset=131072))
    # Float files may exceed full scale; the reader must not clip them.
    assert np.abs(audio.samples).max() > 1.0


def test_ltcsync_8_bit_odd_data_size(shared_samples):
    path = shared_samples / "ltcsync" / "LTC_00_58_00_00__1mins_23976.wav"
    raw = path.read_bytes()
    audio = read_wav(path)
    assert audio.bits == 8 and audio.frames == 2882883  # odd data size, no pad byte at the end
    expected = (np.frombuffer(raw, np.uint8, offset=44).astype(np.float64) - 128) / 128
    np.testing.assert_array_equal(audio.samples[:, 0], expected)


@pytest.mark.parametrize(
    ("bits", "tag", "dtype"),
    [
        (8, 1, np.uint8),
        (16, 1, "<i2"),
        (24, 1, None),
        (32, 1, "<i4"),
        (32, 3, "<f4"),
        (64, 3, "<f8"),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_samples_are_the_files_own_and_scale_to_what_read_gives(
    tmp_path, bits, tag, dtype, channels
):
    """`samples()` hands out one channel as stored (no copy): scaled by its type's full scale,
    as the LTC decoder does, it is exactly `read()`'s float32, in every range."""
    from stagebox.ltc.samples import to_float

    rng = np.random.default_rng(bits + channels)
    n = 1000
    if tag == 3:
        values = rng.uniform(-1, 1, size=(n, channels)).astype(dtype)
        data = values.tobytes()
    elif bits == 24:
        values = rng.integers(-(2**23), 2**23, size=(n, channels))
        data = int24(values.ravel())
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=(n, channels), endpoint=True).astype(dtype)
        data = values.tobytes()
    path = write(
        tmp_path, "a.wav", riff(fmt_pcm(channels, 48000, bits, tag) + chunk(b"data", data))
    )
    with WavReader(path) as reader:
        for channel in range(channels):
            for start, count in [(0, None), (0, n), (17, 500), (999, 5), (n, 3), (300, 0)]:
                got = reader.samples(start, count, channel=channel)
                if dtype is None:  # 24-bit: no numpy type, read()'s float32
                    assert got.dtype == np.float32
                else:
                    assert got.dtype == np.dtype(dtype)
                    if got.size:
                        assert not got.flags.writeable
                        assert np.shares_memory(got, np.frombuffer(reader._map, np.uint8))
                want = reader.read(start, count, channels=[channel])[:, 0]
                np.testing.assert_array_equal(to_float(got), want)
                del got
        with pytest.raises(WavError, match="channel 3 does not exist"):
            reader.samples(channel=3)
        with pytest.raises(WavError, match="negative"):
            reader.samples(-1, channel=0)
