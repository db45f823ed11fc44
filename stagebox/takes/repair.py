"""Take repair after a crash: finish every take a crashed writer left open.

The writer leaves a marker `.<name>.open` beside each open take (`bwf.TakeFile`); repair sets
the take's sizes to the whole frames on disk and removes the marker. Finished and live takes
are never touched.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from stagebox.safefile import SIDECAR_MAX_BYTES, read_bounded
from stagebox.takes.bwf import RF64_THRESHOLD, size_patches
from stagebox.takes.disk import MARKER_SUFFIX, OS_DISK, fsync_dir, take_is_live
from stagebox.wavfile import WavError

log = logging.getLogger("stagebox.takes.bwf")


# ---------------------------------------------------------------------------------------------
# Repair after a crash


def repair_takes(folder: str | os.PathLike) -> list[Path]:
    """Finish every take in `folder` that a crash left open; returns the takes repaired.

    For each `.<name>.open` marker: the take's sizes are set to the whole frames on disk (a
    partial last frame, less than one sample period, is cut), RF64 if they need it, and the
    marker is removed. A marker without its take is removed. A take whose header does not
    match its marker is left alone and logged. Finished takes (no marker) are never touched,
    and neither is a live take (one a running writer holds locked: `take_is_live`).
    """
    folder = Path(folder)
    repaired: list[Path] = []
    for marker in sorted(folder.glob(f".*{MARKER_SUFFIX}")):
        take = folder / marker.name[1 : -len(MARKER_SUFFIX)]
        if take_is_live(take):
            log.info("take %s is being recorded: left alone", take.name)
            continue
        if not marker.exists():  # finished while we looked
            continue
        try:
            record = json.loads(read_bounded(marker, SIDECAR_MAX_BYTES, "take marker"))
            data_offset = int(record["data_offset"])
            block_align = int(record["block_align"])
            threshold = int(record.get("rf64_threshold", RF64_THRESHOLD))
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            log.error("take marker %s is unreadable (%s); leaving %s as it is", marker, exc, take)
            continue
        if not take.exists():
            log.warning("take marker %s has no take beside it; removing the marker", marker)
            marker.unlink(missing_ok=True)
            continue
        try:
            _repair_one(take, data_offset, block_align, threshold)
        except (OSError, WavError) as exc:
            log.error("cannot repair take %s: %s", take, exc)
            continue
        marker.unlink(missing_ok=True)
        fsync_dir(folder)
        repaired.append(take)
        log.info("repaired take %s", take)
    return repaired


def _repair_one(take: Path, data_offset: int, block_align: int, threshold: int) -> None:
    fd = os.open(take, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        head = os.pread(fd, 12, 0)
        data_hdr = os.pread(fd, 4, data_offset - 8)
        if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE" or data_hdr != b"data":
            raise WavError(
                take, f"header does not match its marker (no data chunk at {data_offset})"
            )
        whole = max(0, size - data_offset) // block_align * block_align
        os.ftruncate(fd, data_offset + whole + (whole & 1))
        os.fdatasync(fd)
        for offset, patch in size_patches(data_offset, block_align, whole, threshold):
            OS_DISK.pwrite(fd, patch, offset)
        os.fdatasync(fd)
    finally:
        os.close(fd)
