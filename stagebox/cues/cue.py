"""The cue: one line of dialogue to replace, and the timecode window it plays in."""

from __future__ import annotations

from dataclasses import dataclass, field

from stagebox.timecode import Timecode


@dataclass(frozen=True)
class Cue:
    """One ADR cue. TC-in is where the line starts (the punch); TC-out where it ends."""

    number: str  # the cue number as the sheet writes it ("101", "R2-14A")
    tc_in: Timecode  # first frame of the line: the streamer ends and the take starts here
    tc_out: Timecode  # first frame after the line: the take ends here
    character: str = ""
    actor: str = ""
    dialogue: str = ""  # the line to record (in `language` when the sheet names one)
    notes: str = ""
    reel: str = ""
    scene: str = ""
    # Optional word timing for the rhythm band: (word, timecode at which it is spoken).
    words: tuple[tuple[str, Timecode], ...] = ()
    # Tags the sheet gives beyond these fields, in the ADR tag grammar's terms: the reason
    # ("R"), the character number ("CN"), flags ("ADLIB": "ADLIB"), the project's "Title" ...
    # They go into the take's iXML and the take report.
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    # Dubbing: the line as the original version says it, beside the line to record
    # (`dialogue`) in another language ("FR"). Empty on an ADR sheet in one language.
    original: str = ""
    language: str = ""

    @property
    def duration_frames(self) -> int:
        """Frames from TC-in to TC-out."""
        return self.tc_out - self.tc_in

    def details(self) -> list[tuple[str, str]]:
        """What a take of this cue records about it beyond the iXML's own elements: the
        character, actor, line(s) and tags, as (KEY, value) pairs (iXML USER, the report)."""
        pairs = [
            ("CHARACTER", self.character),
            ("ACTOR", self.actor),
            ("LINE", self.dialogue),
            ("LINE_LANGUAGE", self.language),
            ("ORIGINAL_LINE", self.original),
        ]
        pairs += [(f"TAG_{key}", value) for key, value in self.tags.items()]
        return [(k, " ".join(v.split())) for k, v in pairs if v]

    def to_dict(self) -> dict:
        """Plain data for JSON (control socket, display process, reports)."""
        return {
            "number": self.number,
            "tc_in": str(self.tc_in),
            "tc_out": str(self.tc_out),
            "rate": self.tc_in.rate.name,
            "character": self.character,
            "actor": self.actor,
            "dialogue": self.dialogue,
            "notes": self.notes,
            "reel": self.reel,
            "scene": self.scene,
            "words": [[w, str(tc)] for w, tc in self.words],
            "tags": dict(self.tags),
            "original": self.original,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Cue:
        from stagebox.timecode import Rate

        rate = Rate.parse(data["rate"])
        return cls(
            number=data["number"],
            tc_in=Timecode.parse(data["tc_in"], rate),
            tc_out=Timecode.parse(data["tc_out"], rate),
            character=data.get("character", ""),
            actor=data.get("actor", ""),
            dialogue=data.get("dialogue", ""),
            notes=data.get("notes", ""),
            reel=data.get("reel", ""),
            scene=data.get("scene", ""),
            words=tuple((w, Timecode.parse(tc, rate)) for w, tc in data.get("words", [])),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
            original=data.get("original", ""),
            language=data.get("language", ""),
        )
