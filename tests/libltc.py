"""libltc (Debian `libltc11`) through ctypes: the field's reference LTC decoder.

Used by tests and benchmarks as an independent judge of our encoder and as the decoder to
beat. Nothing here is shipped in the package.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

import numpy as np

LTC_FRAME_BIT_COUNT = 80


class _LTCFrameExt(ctypes.Structure):
    _fields_ = [
        ("ltc", ctypes.c_uint8 * 12),  # struct LTCFrame: 80 bits of unsigned-int bitfields
        ("off_start", ctypes.c_longlong),
        ("off_end", ctypes.c_longlong),
        ("reverse", ctypes.c_int),
        ("biphase_tics", ctypes.c_float * LTC_FRAME_BIT_COUNT),
        ("sample_min", ctypes.c_uint8),
        ("sample_max", ctypes.c_uint8),
        ("volume", ctypes.c_double),
    ]


class _SMPTETimecode(ctypes.Structure):
    _fields_ = [
        ("timezone", ctypes.c_char * 6),
        ("years", ctypes.c_uint8),
        ("months", ctypes.c_uint8),
        ("days", ctypes.c_uint8),
        ("hours", ctypes.c_uint8),
        ("mins", ctypes.c_uint8),
        ("secs", ctypes.c_uint8),
        ("frame", ctypes.c_uint8),
    ]


@dataclass(frozen=True)
class RefFrame:
    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool
    start: int  # samples (libltc's off_start)
    end: int  # samples (libltc's off_end)
    reverse: bool

    @property
    def label(self) -> str:
        sep = ";" if self.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"


def load() -> ctypes.CDLL | None:
    """The libltc shared library, or None when it is not installed."""
    for name in ("libltc.so.11", ctypes.util.find_library("ltc")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.ltc_decoder_create.restype = ctypes.c_void_p
        lib.ltc_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.ltc_decoder_free.argtypes = [ctypes.c_void_p]
        lib.ltc_decoder_write_float.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_float),
            ctypes.c_size_t,
            ctypes.c_longlong,
        ]
        lib.ltc_decoder_write.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint8),
            ctypes.c_size_t,
            ctypes.c_longlong,
        ]
        lib.ltc_decoder_read.restype = ctypes.c_int
        lib.ltc_decoder_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(_LTCFrameExt)]
        lib.ltc_frame_to_time.argtypes = [
            ctypes.POINTER(_SMPTETimecode),
            ctypes.c_void_p,
            ctypes.c_int,
        ]
        return lib
    return None


def decode(
    samples: np.ndarray, samples_per_frame: float, *, block: int = 1024, lib=None
) -> list[RefFrame]:
    """Decode float samples (full scale 1.0) with libltc, in blocks of `block` samples."""
    lib = lib or load()
    if lib is None:
        raise RuntimeError("libltc is not installed (Debian package libltc11)")
    data = np.ascontiguousarray(samples, dtype=np.float32)
    decoder = lib.ltc_decoder_create(int(round(samples_per_frame)), 64)
    frames: list[RefFrame] = []
    ext = _LTCFrameExt()
    stime = _SMPTETimecode()
    try:
        for pos in range(0, data.size, block):
            chunk = data[pos : pos + block]
            ptr = chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            lib.ltc_decoder_write_float(decoder, ptr, chunk.size, pos)
            while lib.ltc_decoder_read(decoder, ctypes.byref(ext)):
                lib.ltc_frame_to_time(ctypes.byref(stime), ctypes.addressof(ext.ltc), 0)
                dfbit = bool(ext.ltc[1] & 0x04)  # bit 10 = byte 1, bit 2
                frames.append(
                    RefFrame(
                        stime.hours,
                        stime.mins,
                        stime.secs,
                        stime.frame,
                        dfbit,
                        int(ext.off_start),
                        int(ext.off_end),
                        bool(ext.reverse),
                    )
                )
    finally:
        lib.ltc_decoder_free(decoder)
    return frames
