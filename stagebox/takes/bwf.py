"""The take file: a Broadcast WAV written so that a crash or a full disk never loses a take.

Layout (byte offsets; see docs/takes.md):

    0     "RIFF" size "WAVE"           (becomes "RF64" 0xFFFFFFFF past the size limit)
    12    "JUNK" 28 bytes of zero      (becomes "ds64": RIFF size, data size, frame count)
    48    "fmt " 16/18/40 bytes        (PCM, IEEE float, or WAVE_FORMAT_EXTENSIBLE for > 2 ch)
    ..    "bext" 602 + CodingHistory   (TimeReference at body offset 338)
    ..    "iXML" fixed reserved size   (UTF-8, padded with spaces: rewritable in place)
    ..    "JUNK" filler
    D-8   "data" size
    D     audio, D a multiple of `align` (4096)

Crash safety: the header is complete and valid (zero frames) before the first sample is
written, and a marker file `.<name>.open` (JSON: data offset, frame size, format) sits beside
the take while it is open. The audio is appended with plain writes; at least twice a second the
writer makes the audio durable (fdatasync), then rewrites the RIFF and data sizes in place and
syncs again, so the header on disk never claims audio that is not on disk. After a crash,
`repair_takes(folder)` finds the markers and sets the sizes to the whole frames on disk.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from stagebox import __version__
from stagebox.audio.pcmformat import FORMATS, encode
from stagebox.takes.disk import (
    OS_DISK,
    DiskFullError,
    TakeDisk,
    TakeError,
    TakeExistsError,
    fsync_dir,
    marker_path,
)
from stagebox.takes.meta import (
    TakeMetadata,
    TakeMetadataError,
    build_bext,
    build_ixml,
    coding_history_line,
    metadata_from_chunks,
    pad_ixml,
    rewrite_ixml,
)
from stagebox.wavfile import WavError, read_wav_info

_PCM_FOR_BITS = {16: "S16_LE", 24: "S24_3LE", 32: "S32_LE"}  # a take's PCM, as ALSA names it

log = logging.getLogger(__name__)

DEFAULT_ALIGN = 4096  # bytes: audio starts on a filesystem block / flash page boundary
DEFAULT_IXML_RESERVE = 8192  # bytes reserved for iXML (grown if the first document needs more)
IXML_HEADROOM = 2048  # bytes kept free beyond the first iXML document for later notes
# A RIFF size field is 32 bits: past this RIFF size the take must become RF64.
RF64_THRESHOLD = 0xFFFFFFFF  # bytes
DS64_OFFSET = 12  # the reserved JUNK chunk that becomes ds64
DS64_BODY = 28  # riffSize u64, dataSize u64, sampleCount u64, tableLength u32
FMT_OFFSET = DS64_OFFSET + 8 + DS64_BODY  # 48
SUPPORTED_SAMPLES = {(16, "int"), (24, "int"), (32, "int"), (32, "float")}
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


# ---------------------------------------------------------------------------------------------
# Format and layout


@dataclass(frozen=True)
class TakeFormat:
    """The sample format of a take."""

    sample_rate: int  # Hz
    channels: int
    bits: int = 24  # 16, 24 or 32
    sample_format: str = "int"  # "int" or "float" (32-bit only)

    def __post_init__(self) -> None:
        if (self.bits, self.sample_format) not in SUPPORTED_SAMPLES:
            raise ValueError(
                f"unsupported take format {self.bits}-bit {self.sample_format} "
                "(16/24/32-bit int or 32-bit float)"
            )
        if not 1 <= self.channels <= 64:
            raise ValueError(f"a take has 1..64 channels, not {self.channels}")
        if not 8000 <= self.sample_rate <= 384000:
            raise ValueError(f"sample rate {self.sample_rate} Hz is outside 8000..384000")

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8  # bytes per frame

    @property
    def extensible(self) -> bool:
        # Microsoft requires WAVE_FORMAT_EXTENSIBLE beyond two channels; mono/stereo keep the
        # plain tags every DAW reads.
        return self.channels > 2

    def fmt_body(self) -> bytes:
        tag = 3 if self.sample_format == "float" else 1
        ba = self.block_align
        rate, ch, bits = self.sample_rate, self.channels, self.bits
        if self.extensible:
            mask = 0  # no speaker positions: a multitrack take, not a surround mix
            head = struct.pack("<HHIIHH", 0xFFFE, ch, rate, rate * ba, ba, bits)
            return head + struct.pack("<HHIH", 22, bits, mask, tag) + _GUID_TAIL
        head = struct.pack("<HHIIHH", tag, ch, rate, rate * ba, ba, bits)
        if tag == 3:
            return head + b"\0\0"  # cbSize = 0: a non-PCM fmt is 18 bytes
        return head

    def to_frame_bytes(self, block: np.ndarray) -> bytes:
        """A (frames, channels) block -> interleaved little-endian sample bytes.

        Float input is full scale 1.0 (clipped, rounded); integer input is full scale of its
        dtype (int16 = 2^15, int32 = 2^31, as ALSA's S16/S32 formats deliver it).
        """
        a = np.asarray(block)
        if a.ndim == 1 and self.channels == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != self.channels:
            raise ValueError(f"block shape {a.shape} is not (frames, {self.channels})")
        if self.sample_format == "float":
            if a.dtype.kind == "f":
                return a.astype("<f4").tobytes()
            scale = float(1 << (a.dtype.itemsize * 8 - 1))
            return (a.astype(np.float64) / scale).astype("<f4").tobytes()
        if a.dtype.kind == "f":  # rounded and clipped as every PCM write here is
            return encode(a, FORMATS[_PCM_FOR_BITS[self.bits]])
        if a.dtype.kind == "i":
            shift = 32 - a.dtype.itemsize * 8
            ints = a.astype(np.int64) << shift if shift >= 0 else a.astype(np.int64) >> -shift
        else:
            raise ValueError(f"cannot record samples of dtype {a.dtype}")
        words = ints.astype("<i4")
        if self.bits == 32:
            return words.tobytes()
        if self.bits == 16:
            return (words >> 16).astype("<i2").tobytes()
        # 24-bit: the top three bytes of each little-endian int32.
        return words.view(np.uint8).reshape(-1, 4)[:, 1:].tobytes()


@dataclass(frozen=True)
class TakeLayout:
    """Where everything is in a take file of a given format."""

    fmt: TakeFormat
    fmt_size: int  # bytes of the fmt body
    bext_offset: int  # body offset
    bext_size: int
    ixml_offset: int  # body offset
    ixml_size: int  # reserved bytes (even)
    data_offset: int  # first audio byte, a multiple of align

    @classmethod
    def plan(cls, fmt: TakeFormat, bext_size: int, ixml_size: int, align: int) -> TakeLayout:
        if align < 512 or align & (align - 1):
            raise ValueError(f"audio alignment {align} must be a power of two >= 512")
        fmt_size = len(fmt.fmt_body())
        bext_offset = FMT_OFFSET + 8 + fmt_size + 8
        ixml_size += ixml_size & 1
        ixml_offset = bext_offset + bext_size + (bext_size & 1) + 8
        end = ixml_offset + ixml_size  # where a filler JUNK chunk may start
        data_offset = -(-(end + 8) // align) * align
        if 0 < data_offset - 8 - end < 8:  # no room for a filler chunk header
            data_offset += align
        return cls(fmt, fmt_size, bext_offset, bext_size, ixml_offset, ixml_size, data_offset)

    def header(self, bext: bytes, ixml: bytes) -> bytes:
        """Every byte before the audio, describing a valid take of zero frames."""
        out = bytearray()
        out += b"RIFF" + struct.pack("<I", self.data_offset - 8) + b"WAVE"
        out += b"JUNK" + struct.pack("<I", DS64_BODY) + bytes(DS64_BODY)
        out += b"fmt " + struct.pack("<I", self.fmt_size) + self.fmt.fmt_body()
        out += b"bext" + struct.pack("<I", len(bext)) + bext
        assert len(out) == self.ixml_offset - 8
        out += b"iXML" + struct.pack("<I", len(ixml)) + ixml
        gap = self.data_offset - 8 - len(out)
        if gap:
            out += b"JUNK" + struct.pack("<I", gap - 8) + bytes(gap - 8)
        out += b"data" + struct.pack("<I", 0)
        assert len(out) == self.data_offset
        return bytes(out)


def size_patches(
    data_offset: int, block_align: int, data_bytes: int, rf64_threshold: int
) -> list[tuple[int, bytes]]:
    """The in-place header writes that make a take of `data_bytes` audio bytes valid.

    RIFF while the RIFF size fits under `rf64_threshold`; past it, RF64 (EBU Tech 3306): the
    JUNK reservation becomes ds64 with the 64-bit sizes and the 32-bit fields read 0xFFFFFFFF.
    """
    pad = data_bytes & 1
    riff_size = data_offset - 8 + data_bytes + pad
    if riff_size <= rf64_threshold:
        return [
            (0, b"RIFF" + struct.pack("<I", riff_size)),
            (DS64_OFFSET, b"JUNK" + struct.pack("<I", DS64_BODY) + bytes(DS64_BODY)),
            (data_offset - 4, struct.pack("<I", data_bytes)),
        ]
    ds64 = struct.pack("<QQQI", riff_size, data_bytes, data_bytes // block_align, 0)
    return [
        # The ds64 body first, then the ids that make readers believe it.
        (DS64_OFFSET + 8, ds64),
        (DS64_OFFSET, b"ds64" + struct.pack("<I", DS64_BODY)),
        (data_offset - 4, struct.pack("<I", 0xFFFFFFFF)),
        (0, b"RF64" + struct.pack("<I", 0xFFFFFFFF)),
    ]


# ---------------------------------------------------------------------------------------------
# The take file itself (synchronous; the writer thread drives it)


class TakeFile:
    """One take being recorded: create, append frames, sync, close. Not thread-safe.

    Every method may raise `TakeError`; on `DiskFullError` from `write` the frames that made it
    are still in the take and `close()` finishes it validly.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fmt: TakeFormat,
        metadata: TakeMetadata,
        *,
        align: int = DEFAULT_ALIGN,
        ixml_reserve: int = DEFAULT_IXML_RESERVE,
        rf64_threshold: int = RF64_THRESHOLD,
        disk_reserve_bytes: int = 0,
        disk: TakeDisk = OS_DISK,
        now: datetime | None = None,
    ) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.disk = disk
        self.rf64_threshold = rf64_threshold
        self.data_bytes = 0  # audio bytes written (whole frames unless a write failed)
        self.synced_bytes = 0  # audio bytes the header on disk describes
        self.closed = False
        self._fd: int | None = None
        folder = str(self.path.parent)
        free = disk.free_bytes(folder)
        if free < disk_reserve_bytes:
            raise DiskFullError(
                errno.ENOSPC,
                f"{folder}: only {free / 1e6:.1f} MB free, below the reserve of "
                f"{disk_reserve_bytes / 1e6:.1f} MB; not opening take {self.path.name}",
            )
        self.metadata = self._complete(metadata, now or datetime.now())
        bext = build_bext(self.metadata)
        ixml_text = build_ixml(
            self.metadata, file_uid=self.metadata.originator_reference, filename=self.path.name
        )
        need = len(ixml_text.encode("utf-8")) + IXML_HEADROOM
        reserve = max(ixml_reserve, -(-need // 1024) * 1024)
        self.layout = TakeLayout.plan(fmt, len(bext), reserve, align)
        header = self.layout.header(bext, pad_ixml(ixml_text, self.layout.ixml_size))
        try:
            self._fd = disk.create_exclusive(str(self.path))
        except FileExistsError:
            raise TakeExistsError(
                errno.EEXIST, f"{self.path}: take already exists, refusing to overwrite it"
            ) from None
        except OSError as exc:
            raise TakeError(exc.errno, f"{self.path}: cannot create take: {exc.strerror}") from None
        try:
            self._write_all(header)
            disk.fdatasync(self._fd)
            self._write_marker()
        except BaseException:
            # A take that never got its header is not a take: remove it, keep nothing half-made.
            disk.close(self._fd)
            self._fd = None
            with contextlib.suppress(OSError):
                self.path.unlink()
            with contextlib.suppress(OSError):
                marker_path(self.path).unlink()
            raise

    def _complete(self, meta: TakeMetadata, now: datetime) -> TakeMetadata:
        fmt = self.fmt
        ref = meta.originator_reference or _unique_reference(now)
        description = meta.description or (
            f"{meta.project} cue {meta.scene} take {meta.take}".strip()
        )
        return meta.with_file_facts(
            originator_reference=ref,
            description=description,
            origination_date=now.strftime("%Y-%m-%d"),
            origination_time=now.strftime("%H:%M:%S"),
            coding_history=coding_history_line(
                fmt.sample_rate, fmt.bits, fmt.channels, __version__
            ),
            sample_rate=fmt.sample_rate,
            bits=fmt.bits,
            channels=fmt.channels,
        )

    def _write_marker(self) -> None:
        marker = marker_path(self.path)
        record = {
            "take": self.path.name,
            "data_offset": self.layout.data_offset,
            "block_align": self.fmt.block_align,
            "sample_rate": self.fmt.sample_rate,
            "channels": self.fmt.channels,
            "bits": self.fmt.bits,
            "sample_format": self.fmt.sample_format,
            "rf64_threshold": self.rf64_threshold,
            "ixml_offset": self.layout.ixml_offset,
            "ixml_size": self.layout.ixml_size,
            "time_reference": self.metadata.time_reference,
            "pid": os.getpid(),
        }
        tmp = marker.with_name(marker.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, marker)
        fsync_dir(self.path.parent)

    def _write_all(self, data: bytes | memoryview, audio: bool = False) -> None:
        """All of `data` at the file's end (a short write is retried; none at all is a full
        disk). With `audio`, each byte that lands counts in `data_bytes` as it lands."""
        view = memoryview(data)
        while view:
            n = self.disk.write(self._fd, view)
            if n <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if audio:
                self.data_bytes += n
            view = view[n:]

    @property
    def frames(self) -> int:
        """Whole frames written so far."""
        return self.data_bytes // self.fmt.block_align

    def write(self, block: np.ndarray | bytes) -> None:
        """Append frames (ndarray (frames, channels), or already-encoded whole-frame bytes)."""
        if self.closed or self._fd is None:
            raise TakeError(errno.EBADF, f"{self.path}: take is closed")
        data = block if isinstance(block, bytes | bytearray) else self.fmt.to_frame_bytes(block)
        try:
            self._write_all(data, audio=True)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(
                    exc.errno,
                    f"{self.path}: disk full after {self.frames} frames "
                    f"({self.frames / self.fmt.sample_rate:.2f} s)",
                ) from None
            raise TakeError(exc.errno, f"{self.path}: write failed: {exc.strerror}") from None

    def write_silence(self, frames: int) -> None:
        """Append `frames` frames of digital silence (keeps sync across a dropped block)."""
        if frames > 0:
            self.write(bytes(frames * self.fmt.block_align))

    def sync(self) -> None:
        """Make the audio durable, then make the header describe it (two fdatasyncs)."""
        if self._fd is None:
            return
        whole = self.frames * self.fmt.block_align
        if whole == self.synced_bytes:
            return
        try:
            self.disk.fdatasync(self._fd)
            self._patch_sizes(whole)
            self.disk.fdatasync(self._fd)
        except OSError as exc:
            raise TakeError(exc.errno, f"{self.path}: sync failed: {exc.strerror}") from None
        self.synced_bytes = whole

    def _patch_sizes(self, data_bytes: int) -> None:
        for offset, patch in size_patches(
            self.layout.data_offset, self.fmt.block_align, data_bytes, self.rf64_threshold
        ):
            self.disk.pwrite(self._fd, patch, offset)

    def close(self, *, circled: bool | None = None, note: str | None = None) -> Path:
        """Finish the take: optional iXML update, final sizes, pad byte, sync, remove marker."""
        if self._fd is None:
            return self.path
        fd = self._fd
        whole = self.frames * self.fmt.block_align
        metadata_error: TakeError | None = None
        if circled is not None or note is not None:
            try:
                self._rewrite_ixml(circled=circled, note=note)
            except TakeError as exc:  # the take is still finished; the error is raised after
                metadata_error = exc
        try:
            end = self.layout.data_offset + whole
            # Cut a partial frame left by a failed write; add the RIFF pad byte after odd data.
            self.disk.ftruncate(fd, end + (whole & 1))
            self.data_bytes = whole
            self.disk.fdatasync(fd)
            self._patch_sizes(whole)
            self.disk.fdatasync(fd)
            self.synced_bytes = whole
            # The marker goes while the take is still locked: a repair that waits for the lock
            # finds a finished take, never one it would have to finish itself.
            marker_path(self.path).unlink(missing_ok=True)
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise TakeError(exc.errno, f"{self.path}: closing failed: {exc.strerror}") from None
        finally:
            self._fd = None
            self.closed = True
            self.disk.close(fd)
        if metadata_error is not None:
            raise metadata_error
        return self.path

    def _rewrite_ixml(self, *, circled: bool | None, note: str | None) -> None:
        """The iXML chunk again, in place, with `circled` and `note` (None: as it was)."""
        self.metadata = self.metadata.with_file_facts(
            circled=self.metadata.circled if circled is None else circled,
            note=self.metadata.note if note is None else note,
        )
        text = build_ixml(
            self.metadata, file_uid=self.metadata.originator_reference, filename=self.path.name
        )
        try:
            raw = pad_ixml(text, self.layout.ixml_size)
            self.disk.pwrite(self._fd, raw, self.layout.ixml_offset)
        except TakeMetadataError as exc:
            raise TakeError(errno.EFBIG, f"{self.path}: {exc}; take closed without it") from None
        except OSError as exc:
            raise TakeError(exc.errno, f"{self.path}: iXML update failed: {exc.strerror}") from None


def _unique_reference(now: datetime) -> str:
    """A 32-character OriginatorReference in the spirit of EBU R99: who, when, random."""
    rand = int.from_bytes(os.urandom(6), "big")
    return f"SBX{now:%Y%m%d%H%M%S}{rand:015d}"[:32]


# ---------------------------------------------------------------------------------------------
# Reading and updating finished takes


def read_take_metadata(path: str | os.PathLike) -> TakeMetadata:
    """bext and iXML of a take (any BWF), with the format facts from fmt."""
    info = read_wav_info(path)
    if "bext" not in info.chunks and "iXML" not in info.chunks:
        raise WavError(path, "no bext or iXML chunk: not a Broadcast WAV take")
    try:
        meta = metadata_from_chunks(info.chunks.get("bext"), info.chunks.get("iXML"))
    except TakeMetadataError as exc:
        raise WavError(path, str(exc)) from None
    return meta.with_file_facts(
        sample_rate=info.sample_rate, bits=info.bits, channels=info.channels
    )


def update_take_metadata(
    path: str | os.PathLike,
    *,
    circled: bool | None = None,
    note: str | None = None,
    dry_run: bool = False,
) -> TakeMetadata | None:
    """Rewrite CIRCLED and/or NOTE inside the take's iXML chunk, in place, audio untouched.

    Refuses a take that is still being recorded (its marker exists) and a change that would
    not fit in the chunk's reserved size; returns the metadata as now on disk. `dry_run`:
    only check that the change fits (TakeError EFBIG if not), on an open take too.
    """
    path = Path(path)
    if not dry_run and marker_path(path).exists():
        raise TakeError(errno.EBUSY, f"{path}: take is still open (being recorded or needs repair)")
    info = read_wav_info(path)
    span = info.spans.get("iXML")
    if span is None:
        raise WavError(path, "no iXML chunk to update")
    offset, size = span
    try:
        raw = pad_ixml(rewrite_ixml(info.chunks["iXML"], circled=circled, note=note), size)
    except TakeMetadataError as exc:
        raise TakeError(errno.EFBIG, f"{path}: {exc}") from None
    if dry_run:
        return None
    fd = os.open(path, os.O_WRONLY)
    try:
        OS_DISK.pwrite(fd, raw, offset)
        os.fdatasync(fd)
    finally:
        os.close(fd)
    return read_take_metadata(path)
