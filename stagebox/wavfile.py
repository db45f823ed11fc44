"""A tolerant WAV reader: RIFF and RF64, PCM and float, whatever real recorders write.

Field recorders, timecode generators and DAWs all write WAV files a little wrongly: a RIFF size
that does not match the file (pico-timecode), a data size of 0 or 0xFFFFFFFF left by a recorder
that lost power, an odd-sized chunk without its pad byte, vendor chunks (`atem`, `smpl`, `meta`,
`PAD `, `JUNK`) anywhere before the audio. This reader believes the file over the header:

- the chunk walk runs to the end of the file, not to the end the RIFF size claims;
- a data size of 0, 0xFFFFFFFF or one reaching past the end of the file means "the audio that is
  there": whole frames up to the end of the file;
- RF64/BW64 sizes come from the `ds64` chunk;
- every chunk other than `data` is kept, raw, in `chunks` (keys are the 4-character ids exactly
  as in the file, so `"fmt "` and `"PAD "` keep their space).

Samples come back as float32 in [-1, 1) with shape (frames, channels). `WavReader` memory-maps
the audio, so a range of frames from a multi-gigabyte take costs only that range; its
`samples()` gives one channel in the file's own sample type without a copy, for readers that
scale samples themselves (the LTC decoder: `stagebox ltc decode` of a 30-minute reel).
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from stagebox.safefile import FileRefused, open_regular, show_path

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# The 14 bytes after the format tag in every KSDATAFORMAT_SUBTYPE_* GUID of a WAV file.
KSDATAFORMAT_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

# Names for the format tags people actually meet, so the error says what the file is.
_FORMAT_NAMES = {
    0x0002: "ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
    0x0092: "Dolby AC3 SPDIF",
    0x00FF: "AAC",
    0x1610: "HE-AAC",
    0x2000: "Dolby AC3",
    0xF1AC: "FLAC",
}

# bytes: a metadata chunk larger than this (a hostile or broken file) is skipped, not read
MAX_CHUNK_BYTES = 16 << 20
# (format, bytes per sample) -> the numpy type of the samples as stored (little-endian).
_NATIVE = {
    ("int", 1): np.dtype(np.uint8),
    ("int", 2): np.dtype("<i2"),
    ("int", 4): np.dtype("<i4"),
    ("float", 4): np.dtype("<f4"),
    ("float", 8): np.dtype("<f8"),
}

_UNKNOWN_SIZE = 0xFFFFFFFF  # a 32-bit size field that says "see ds64" or "never finalised"


class WavError(ValueError):
    """A file that is not a WAV we can read; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


@dataclass(frozen=True)
class WavInfo:
    """What the header says, corrected by what is really on disk."""

    path: str
    sample_rate: int  # frames per second
    channels: int  # channels in the file
    bits: int  # bits per sample as stored (the container: 24-in-32 reports 32)
    valid_bits: int  # significant bits (fmt wBitsPerSample, or EXTENSIBLE wValidBitsPerSample)
    format: str  # "int" or "float"
    format_tag: int  # 1 PCM, 3 float, 0xFFFE extensible
    block_align: int  # bytes per frame
    channel_mask: int  # EXTENSIBLE dwChannelMask, 0 when absent
    container: str  # "RIFF", "RF64" or "BW64"
    data_offset: int  # bytes from the start of the file to the first sample
    frames: int  # whole frames of audio present in the file
    data_size_field: int  # the data size the header claims (ds64's for RF64)
    riff_size_field: int  # the RIFF size the header claims (ds64's for RF64)
    chunks: dict[str, bytes] = field(repr=False)  # every non-data chunk, raw
    # Where each chunk's body starts in the file and its size as used (data included).
    spans: dict[str, tuple[int, int]] = field(repr=False, default_factory=dict)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    @property
    def header_consistent(self) -> bool:
        """True when the RIFF and data sizes in the header describe the file exactly."""
        data_bytes = self.frames * self.block_align
        return self.data_size_field == data_bytes and self.riff_size_field + 8 == os.path.getsize(
            self.path
        )


@dataclass(frozen=True)
class WavAudio(WavInfo):
    """A WAV file read into memory: the header facts plus float32 samples (frames, channels)."""

    samples: np.ndarray | None = field(default=None, repr=False)  # float32, full scale 1.0


def read_wav_info(path: str | os.PathLike) -> WavInfo:
    """The header of `path` (format, chunks, where the audio is), reading no samples."""
    with _open(path) as f:
        return _parse(path, f)


def _open(path: str | os.PathLike):
    """`path` opened for reading once checked to be a regular file (a FIFO would block)."""
    try:
        return os.fdopen(open_regular(path, None, "WAV file"), "rb")
    except FileRefused as exc:
        if exc.oserror is not None and exc.oserror.errno != errno.ENAMETOOLONG:
            raise exc.oserror from None  # missing, no permission: the caller's OSError
        raise WavError(show_path(path), exc.reason) from None


def read_wav(
    path: str | os.PathLike,
    *,
    channels: int | Sequence[int] | None = None,
    start: int = 0,
    frames: int | None = None,
) -> WavAudio:
    """Read `path` to float32 samples, shape (frames, channels).

    `channels` picks channels by 0-based index (an int or a sequence; None for all);
    `start`/`frames` read a range of frames (None: to the end). The result's `.channels` is the
    number of channels returned, `.frames` the number of frames returned.
    """
    with WavReader(path) as reader:
        samples = reader.read(start, frames, channels=channels)
        info = reader.info
    kwargs = {k: getattr(info, k) for k in WavInfo.__dataclass_fields__}
    kwargs["channels"] = samples.shape[1]
    kwargs["frames"] = samples.shape[0]
    return WavAudio(**kwargs, samples=samples)


class WavReader:
    """Random access to a WAV file's frames through a memory map (nothing read until asked).

    Use as a context manager; `read(start, count)` returns float32 (count, channels) and
    `blocks(n)` iterates over the whole file `n` frames at a time.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._file = _open(path)  # closed in close()
        try:
            self.info = _parse(path, self._file)
            self._map: mmap.mmap | None = None
            if self.info.frames > 0:
                self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._map is not None:
            # A view from samples() still alive keeps the map: it goes when the view does.
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None
        self._file.close()

    @property
    def frames(self) -> int:
        return self.info.frames

    def forget(self, before: int) -> None:
        """Let the kernel drop the mapped pages of frames before `before` (read once, as a
        stage feed is): without it an hour-long feed's pages count in the resident memory."""
        if self._map is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        end = (self.info.data_offset + max(0, before) * self.info.block_align) // mmap.PAGESIZE
        if end > 0:
            self._map.madvise(mmap.MADV_DONTNEED, 0, end * mmap.PAGESIZE)

    def read(
        self,
        start: int = 0,
        count: int | None = None,
        *,
        channels: int | Sequence[int] | None = None,
    ) -> np.ndarray:
        """Frames [start, start + count) as float32 (count, channels); clipped to the file."""
        info = self.info
        cols = _channel_index(info, channels)
        if start < 0:
            raise WavError(self.path, f"start frame {start} is negative")
        if count is not None and count < 0:
            raise WavError(self.path, f"frame count {count} is negative")
        stop = info.frames if count is None else min(info.frames, start + count)
        n = max(0, stop - start)
        if n == 0 or self._map is None:
            return np.zeros((0, len(cols)), dtype=np.float32)
        begin = info.data_offset + start * info.block_align
        raw = np.frombuffer(self._map, dtype=np.uint8, count=n * info.block_align, offset=begin)
        try:
            return decode_frames(raw, info, cols)
        finally:
            del raw  # release the export so close() can unmap

    def samples(self, start: int = 0, count: int | None = None, *, channel: int = 0) -> np.ndarray:
        """Frames [start, start + count) of one channel (from 0), clipped to the file, as the
        file stores them: a read-only view of the memory map (strided when the file has more
        channels), int16, int32 (24-in-32 too), uint8 (8-bit, 128 = silence), float32 or
        float64, full scale by its type; nothing is copied. 24-bit files, which numpy has no
        type for, come as `read()`'s float32. Drop the view before closing the reader."""
        info = self.info
        (col,) = _channel_index(info, channel)
        width = info.block_align // info.channels  # bytes per sample
        dtype = _NATIVE.get((info.format, width))
        if dtype is None:
            return self.read(start, count, channels=[col])[:, 0]
        if start < 0:
            raise WavError(self.path, f"start frame {start} is negative")
        if count is not None and count < 0:
            raise WavError(self.path, f"frame count {count} is negative")
        stop = info.frames if count is None else min(info.frames, start + count)
        n = max(0, stop - start)
        if n == 0 or self._map is None:
            return np.zeros(0, dtype=dtype)
        offset = info.data_offset + start * info.block_align + col * width
        # Every block_align-th sample from the channel's first (numpy checks the bounds).
        strides = (info.block_align,)
        return np.ndarray((n,), dtype=dtype, buffer=self._map, offset=offset, strides=strides)

    def blocks(
        self, block_frames: int, *, channels: int | Sequence[int] | None = None
    ) -> Iterator[np.ndarray]:
        """The whole file in blocks of `block_frames` frames (the last one may be shorter)."""
        if block_frames <= 0:
            raise WavError(self.path, f"block size {block_frames} frames must be positive")
        for start in range(0, self.info.frames, block_frames):
            yield self.read(start, block_frames, channels=channels)


def decode_frames(raw: np.ndarray, info: WavInfo, cols: Sequence[int]) -> np.ndarray:
    """Interleaved sample bytes (whole frames) -> float32 (frames, len(cols))."""
    width = info.block_align // info.channels  # bytes per sample
    n = raw.size // info.block_align
    cells = raw[: n * info.block_align].reshape(n, info.channels, width)[:, list(cols), :]
    if info.format == "float":
        dtype = "<f4" if width == 4 else "<f8"
        return np.ascontiguousarray(cells).view(dtype)[..., 0].astype(np.float32)
    if width == 1:  # 8-bit WAV is unsigned, 128 = silence
        return (cells[..., 0].astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.ascontiguousarray(cells).view("<i2")[..., 0].astype(np.float32) / 32768.0
    # 24 and 32 bits (and 24-in-32): put the sample in the top bytes of an int32, scale by 2^31.
    wide = np.zeros((n, len(cols), 4), dtype=np.uint8)
    wide[..., 4 - width :] = cells
    return wide.view("<i4")[..., 0].astype(np.float32) / 2147483648.0


def _channel_index(info: WavInfo, channels: int | Sequence[int] | None) -> list[int]:
    if channels is None:
        return list(range(info.channels))
    picked = [channels] if isinstance(channels, int | np.integer) else list(channels)
    if not picked:
        raise WavError(info.path, "no channels selected")
    for ch in picked:
        if not 0 <= ch < info.channels:
            raise WavError(
                info.path, f"channel {ch} does not exist (the file has {info.channels}, from 0)"
            )
    return [int(ch) for ch in picked]


# ---------------------------------------------------------------------------------------------
# Parsing


def _printable_id(cid: bytes) -> bool:
    return len(cid) == 4 and all(0x20 <= b < 0x7F for b in cid)


def _parse(path: str | os.PathLike, f) -> WavInfo:
    size = os.fstat(f.fileno()).st_size
    head = f.read(12)
    if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64", b"BW64"):
        if head[:4] == b"RIFX":
            raise WavError(path, "not a RIFF/RF64 file (RIFX, big-endian WAV, is not supported)")
        raise WavError(path, "not a RIFF/RF64 file")
    container = head[:4].decode("ascii")
    riff_size = struct.unpack("<I", head[4:8])[0]
    ds64: dict[str, int] = {}
    chunks: dict[str, bytes] = {}
    spans: dict[str, tuple[int, int]] = {}
    fmt: bytes | None = None
    data_offset = data_size_field = None
    data_bytes = 0

    off = 12
    while off + 8 <= size:
        f.seek(off)
        hdr = f.read(8)
        cid_raw, csize = hdr[:4], struct.unpack("<I", hdr[4:8])[0]
        if not _printable_id(cid_raw):
            break  # trailing garbage after the last chunk: the file ends here for us
        cid = cid_raw.decode("ascii")
        body = off + 8
        if cid == "data":
            data_offset = body
            if container != "RIFF" and csize == _UNKNOWN_SIZE and "data" in ds64:
                csize = ds64["data"]
            data_size_field = csize
            avail = size - body
            if csize in (0, _UNKNOWN_SIZE) or csize > avail:
                # Never finalised (crash) or truncated: take what is there, the file ends here.
                data_bytes = avail
                spans["data"] = (body, avail)
                break
            data_bytes = csize
            spans["data"] = (body, csize)
        else:
            if container != "RIFF" and csize == _UNKNOWN_SIZE and cid in ds64:
                csize = ds64[cid]
            if cid not in chunks and csize <= MAX_CHUNK_BYTES:
                f.seek(body)
                chunks[cid] = f.read(min(csize, size - body))
                spans[cid] = (body, len(chunks[cid]))
            if cid == "ds64" and container != "RIFF" and cid in chunks:
                ds64 = _parse_ds64(path, chunks[cid])
                riff_size = ds64.get("RIFF", riff_size)
            if cid == "fmt " and fmt is None and cid in chunks:
                fmt = chunks[cid]
        off = _next_chunk(f, body, csize, size)

    if fmt is None:
        raise WavError(path, "no fmt chunk")
    if data_offset is None:
        raise WavError(path, "no data chunk")
    fmt_facts = _parse_fmt(path, fmt)
    block_align = fmt_facts["block_align"]
    return WavInfo(
        path=os.fspath(path),
        sample_rate=fmt_facts["sample_rate"],
        channels=fmt_facts["channels"],
        bits=fmt_facts["bits"],
        valid_bits=fmt_facts["valid_bits"],
        format=fmt_facts["format"],
        format_tag=fmt_facts["format_tag"],
        block_align=block_align,
        channel_mask=fmt_facts["channel_mask"],
        container=container,
        data_offset=data_offset,
        frames=data_bytes // block_align,
        data_size_field=data_size_field,
        riff_size_field=riff_size,
        chunks=chunks,
        spans=spans,
    )


def _next_chunk(f, body: int, csize: int, size: int) -> int:
    """Offset of the chunk after one of `csize` bytes at `body`, allowing for a missing pad."""
    nxt = body + csize
    if csize & 1 and nxt + 9 <= size:
        f.seek(nxt)
        probe = f.read(9)
        # The pad byte is required, but some writers leave it out: if the id only makes sense
        # without the pad, believe the file.
        if not _printable_id(probe[1:5]) and _printable_id(probe[0:4]):
            return nxt
    return nxt + (csize & 1)


def _parse_ds64(path: str | os.PathLike, body: bytes) -> dict[str, int]:
    if len(body) < 28:
        raise WavError(path, f"ds64 chunk is {len(body)} bytes, needs at least 28")
    riff, data, _sample_count, table_len = struct.unpack("<QQQI", body[:28])
    sizes = {"RIFF": riff, "data": data}
    pos = 28
    for _ in range(table_len):
        if pos + 12 > len(body):
            break
        cid = body[pos : pos + 4].decode("latin-1")
        sizes[cid] = struct.unpack("<Q", body[pos + 4 : pos + 12])[0]
        pos += 12
    return sizes


def _parse_fmt(path: str | os.PathLike, fmt: bytes) -> dict:
    if len(fmt) < 16:
        raise WavError(path, f"fmt chunk is {len(fmt)} bytes, needs at least 16")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    valid_bits = bits
    mask = 0
    sub = tag
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise WavError(path, f"WAVE_FORMAT_EXTENSIBLE fmt chunk is {len(fmt)} bytes, needs 40")
        valid_bits, mask = struct.unpack("<HI", fmt[18:24])
        guid = fmt[24:40]
        sub = struct.unpack("<H", guid[:2])[0]
        if guid[2:] != KSDATAFORMAT_GUID_TAIL:
            raise WavError(path, f"unsupported WAVE_FORMAT_EXTENSIBLE sub-format {guid.hex()}")
        valid_bits = valid_bits or bits
    if sub not in (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT):
        name = _FORMAT_NAMES.get(sub, "not PCM or float")
        raise WavError(path, f"unsupported format 0x{sub:04X} ({name})")
    if channels == 0:
        raise WavError(path, "fmt chunk says 0 channels")
    if rate == 0:
        raise WavError(path, "fmt chunk says a sample rate of 0 Hz")
    if bits == 0:
        raise WavError(path, "fmt chunk says 0 bits per sample")
    # Bytes per sample: the block alignment is authoritative when it is a sane multiple of the
    # channel count (it carries 24-in-32 containers); otherwise derive it from the bit depth.
    width = (bits + 7) // 8
    if block_align and block_align % channels == 0 and block_align // channels >= width:
        width = block_align // channels
    if sub == WAVE_FORMAT_IEEE_FLOAT:
        if width not in (4, 8):
            raise WavError(path, f"unsupported float sample size {bits} bits (32 or 64 only)")
        kind = "float"
    else:
        if width > 4:
            raise WavError(path, f"unsupported integer sample size {bits} bits (8 to 32 only)")
        kind = "int"
    return {
        "format_tag": tag,
        "format": kind,
        "channels": channels,
        "sample_rate": rate,
        "bits": width * 8,
        "valid_bits": min(valid_bits, width * 8),
        "block_align": width * channels,
        "channel_mask": mask,
    }
