"""The take log and the take folder made one truth, both ways.

The crew reads the log (`stagebox takes`, the report, `take circle`); the editor reads the
folder. They must agree, so after a crash, a repair or anything done to the folder by hand:

- a take the log has as *recording* that no writer holds is one a crash left open: once
  `repair_takes` has finished it, it is *repaired*, with the frames now on disk;
- a take the log lists whose file is gone is *missing* (it stays in `stagebox takes`, with
  the reason; the report, which lists files, leaves it out);
- a take whose file holds other frames than the log says is set to the file's;
- a WAV in the folder the log does not know (a take whose log entry a crash lost, a take
  copied in) is adopted from its own bext and iXML: cue (SCENE), take (TAKE), TC-in (the
  TimeReference on the iXML SPEED rate), frames from the file;
- a file in the folder that is not a take (no bext/iXML, not readable) is left alone and
  named in a warning;
- a take's guide channel (`<take>.guide.wav`, `stagebox.takes.guidetrack`) belongs to its
  take: it is never adopted as a take of its own.

Nothing here writes to a take file: it only reads them and appends to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.disk import take_is_live
from stagebox.takes.log import (
    COMPLETE,
    FAILED,
    MISSING,
    RECORDING,
    REPAIRED,
    TakeLog,
    TakeLogError,
    TakeRecord,
)
from stagebox.takes.names import is_guide_file
from stagebox.timecode import Timecode
from stagebox.wavfile import WavError, read_wav_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    """What reconciling changed: each a line for the journal and the CLI."""

    changes: tuple[str, ...]
    warnings: tuple[str, ...]


def reconcile(takelog: TakeLog, repaired: list[Path] | tuple[Path, ...] = ()) -> Reconciled:
    """Bring `takelog` in line with its folder (see the module docstring). `repaired`: the
    takes `repair_takes` just finished (they become *repaired*)."""
    folder = takelog.folder
    repaired_names = {Path(p).name for p in repaired}
    changes: list[str] = []
    warnings: list[str] = []
    known = set()
    for record in takelog.takes():
        known.add(record.file)
        path = folder / record.file
        if record.state == FAILED:
            continue
        if not path.is_file():
            if record.state != MISSING:
                takelog.set_state(
                    record.cue, record.take, MISSING, f"{record.file} is not in the takes folder"
                )
                changes.append(f"cue {record.cue} take {record.take}: {record.file} missing")
            continue
        if take_is_live(path):
            continue  # being recorded: its writer says how it ends
        frames = _frames(path)
        if frames is None:
            warnings.append(f"{path}: not a readable WAV; the log keeps take {record.take}")
            continue
        if record.state == RECORDING or record.file in repaired_names:
            why = "left open by a crash; finished with the audio on disk"
            takelog.set_state(record.cue, record.take, REPAIRED, why, frames)
            changes.append(f"cue {record.cue} take {record.take}: {record.file} repaired")
        elif record.state == MISSING:
            takelog.set_state(record.cue, record.take, REPAIRED, "file back in the folder", frames)
            changes.append(f"cue {record.cue} take {record.take}: {record.file} back")
        elif frames != record.frames:
            why = f"{record.frames} frames logged, {frames} on disk"
            takelog.set_state(record.cue, record.take, record.state, why, frames)
            changes.append(f"cue {record.cue} take {record.take}: {why}")
    for path in sorted(folder.glob("*.wav")) + sorted(folder.glob("*.WAV")):
        if path.name in known or path.name.startswith(".") or is_guide_file(path):
            continue
        if take_is_live(path):
            continue
        try:
            record = _adopt(path, repaired=path.name in repaired_names)
            takelog.record_take(record)
        except (WavError, OSError, ValueError, TakeLogError) as exc:
            warnings.append(f"{path}: not adopted into the take log: {exc}")
            continue
        changes.append(f"cue {record.cue} take {record.take}: {path.name} adopted from its iXML")
    for line in changes:
        log.warning("take log: %s", line)
    for line in warnings:
        log.warning("take log: %s", line)
    return Reconciled(tuple(changes), tuple(warnings))


def _frames(path: Path) -> int | None:
    try:
        return read_wav_info(path).frames
    except (WavError, OSError):
        return None


def _adopt(path: Path, *, repaired: bool) -> TakeRecord:
    """A take record from the file's own bext and iXML."""
    meta = read_take_metadata(path)
    info = read_wav_info(path)
    if not meta.scene or not meta.take.strip().isdigit():
        raise ValueError("its iXML names no cue (SCENE) and take number (TAKE)")
    if meta.rate is None:
        raise ValueError("its iXML has no timecode rate (SPEED)")
    sr = info.sample_rate
    first = Timecode.from_samples(meta.time_reference, sr, meta.rate)
    last = Timecode.from_samples(meta.time_reference + info.frames, sr, meta.rate)
    state = REPAIRED if repaired else COMPLETE
    user = dict(meta.user)  # a wild or room-tone take says so (stagebox.localtake)
    return TakeRecord(
        cue=meta.scene,
        take=int(meta.take),
        file=path.name,
        tc_in=first,
        tc_out=last,
        sample_rate=info.sample_rate,
        frames=info.frames,
        circled=meta.circled,
        note=meta.note,
        flags=("adopted: not in the take log",),
        state=state,
        reason="left open by a crash; finished with the audio on disk" if repaired else "",
        kind=user.get("TAKE_KIND", "line"),
        stamp=user.get("TIMESTAMP", "LTC"),
    )
