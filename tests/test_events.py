"""Stage events: one frozen dataclass per kind, and the events file's line from each."""

from __future__ import annotations

import dataclasses
import json

import pytest

from stagebox import events as ev


def _kinds(cls: type) -> list[type]:
    """The event classes below `cls` that are a kind (abstract bases have no `kind`)."""
    out = []
    for sub in cls.__subclasses__():
        if "kind" in vars(sub):
            out.append(sub)
        out.extend(_kinds(sub))
    return out


def test_every_kind_has_exactly_one_class() -> None:
    classes = _kinds(ev.StageEvent)
    assert sorted(c.kind for c in classes) == sorted(ev.EventKind)
    assert len({c.kind for c in classes}) == len(classes)


def test_events_are_read_only() -> None:
    e = ev.PunchIn(sample=10, cue="101", take=2, file="101_T2.wav", notes=("late",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.take = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.PunchIn(10)  # type: ignore[misc]  # fields by name only: no positional mix-ups


def test_a_misspelt_field_fails_where_it_is_written() -> None:
    with pytest.raises(TypeError):
        ev.Beep(sample=0, number=3)  # type: ignore[call-arg]  # it is `n`


def test_events_file_line_keeps_its_names_and_order() -> None:
    out = ev.PunchOut(
        sample=480_000,
        timecode="01:00:12:00",
        cue="101",
        take=1,
        file="101_T1.wav",
        notes=("LTC dropout 0.40 s at 01:00:11:00 bridged",),
        label="01:00:12:00",
    )
    line = out.to_json()
    assert list(line) == [
        "event", "sample", "timecode", "cue", "take", "file", "note", "notes", "label",
        "interrupted",
    ]  # fmt: skip
    assert "frames" not in line  # set by the engine once the take is closed
    closed = dataclasses.replace(out, frames=96_000)
    assert closed.to_json()["frames"] == 96_000
    assert json.loads(json.dumps(closed.to_json()))["event"] == "punch_out"


def test_a_warning_names_its_cue_only_when_it_has_one() -> None:
    xrun = ev.StageWarning(sample=5, detail="xrun: 64 samples lost")
    assert xrun.to_json() == {
        "event": "warning",
        "sample": 5,
        "timecode": None,
        "detail": "xrun: 64 samples lost",
    }
    beep = ev.StageWarning(sample=5, cue="101", detail="beep 1 missed")
    assert beep.details() == {"cue": "101", "detail": "beep 1 missed"}
    assert beep.event == ev.WARNING == "warning"
