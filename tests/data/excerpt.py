"""How the recordings in this folder were cut from the upstream files (run from the repo root
with ../shared/ltc-samples beside it): the sample bytes are copied unchanged; only the header
is new (a plain RIFF/WAVE: fmt and data)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from stagebox.wavfile import read_wav_info

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "ltc-samples"
HERE = Path(__file__).resolve().parent

# (source under ltc-samples, first frame, frame count, name here)
EXCERPTS = [
    ("pico-timecode/2997fps_df.wav", 432000, 48000, "pico_2997df_excerpt.wav"),
    ("node-smpte-ltc/1 - 24bit linear - VXLR - MIC LEVEL.wav", 0, 144000, "vxlr1_excerpt.wav"),
    ("node-smpte-ltc/7 - 32bit float - VXLR - LINE LEVEL.wav", 240000, 144000, "vxlr7_excerpt.wav"),
]


def cut(src: Path, first: int, count: int, dst: Path) -> None:
    info = read_wav_info(src)
    with open(src, "rb") as f:
        f.seek(info.data_offset + first * info.block_align)
        data = f.read(count * info.block_align)
    tag = 3 if info.format == "float" else 1
    fmt = struct.pack(
        "<HHIIHH",
        tag,
        info.channels,
        info.sample_rate,
        info.sample_rate * info.block_align,
        info.block_align,
        info.bits,
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    dst.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


if __name__ == "__main__":
    for src, first, count, name in EXCERPTS:
        cut(SHARED / src, first, count, HERE / name)
        print(name, file=sys.stderr)
