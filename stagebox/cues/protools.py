"""Pro Tools "Export Session Info as Text": ADR cues from a spotting session.

How ADR is spotted in Pro Tools (the convention ptulsconv reads; docs/cue-sheets.md has the
same with real excerpts):

- **Clip cues.** Each cue is a clip on its character's track. The track name is the character
  (a `{Char=...}` tag overrides it), the clip's start and end are TC-in and TC-out, the clip
  name holds the line and tags (`stagebox.cues.tags`): `$QN=P101` is the cue number,
  `{R=...}` the reason, `{Note=...}`, `{Actor=...}`, `{Line=...}` (overrides the text),
  flags such as `[ADLIB]` `[EFF]` `[TV]`. A clip without `$QN=` is not a cue.
- **Tags on other layers** apply to the cues under them, the nearer layer winning: the session
  name, then ruler markers (from the marker on, `$Reel=R2`, `{Title=...}`), then time-range
  clips named `@ {Sc=...}` (to clips starting inside them on later tracks), then the track
  name and COMMENTS (`{Actor=...} $CN=1`), then the clip itself. A clip named `& ...`
  continues the clip before it on its track: one cue from the first start to the last end.
- **Marker cues** (stagebox's older reading, still supported): a marker named `101 JOHN`,
  `101 JOHN: Where were you?` or `101 | JOHN | line | notes`, or carrying `$QN=101`. TC-in is
  the marker, TC-out `OUT hh:mm:ss:ff` in its comment or the default length (cut at the next
  marker cue). A marker whose name is only tags (`$Reel=R2`) or whose first word holds no digit
  (`Reel 2 start`) is never a cue.

Times are read in whatever counter the export was made with (`stagebox.cues.ptcounter`).
Cues keep the file's order: track by track (the order an ADR session records in, one actor
after the other), each track's clips in time order, then the marker cues.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass

from stagebox.cues.errors import Problem
from stagebox.cues.ptcounter import Counter, CounterError
from stagebox.cues.ptsession import Clip, Marker, Session, Track, looks_like_protools, read_session
from stagebox.cues.rows import RawCue
from stagebox.cues.spotname import split_name, spot_from
from stagebox.cues.table import Table
from stagebox.cues.tags import CONTINUED, TIME_RANGE, Tagged, merge, parse_tags
from stagebox.timecode import Rate, Timecode, TimecodeError

__all__ = ["PROTOOLS_RATES", "looks_like_protools", "read_protools"]

# Pro Tools' TIMECODE FORMAT values and stagebox's rate names.
PROTOOLS_RATES = {
    "23.976 frame": "23.976",
    "24 frame": "24",
    "25 frame": "25",
    "29.97 frame": "29.97",
    "29.97 drop frame": "29.97df",
    "30 frame": "30",
    "30 drop frame": "30df",
}

# Tags that fill a cue field; every other tag stays in `Cue.tags`.
FIELD_TAGS = {
    "QN": "number",
    "Char": "character",
    "Actor": "actor",
    "Line": "dialogue",
    "Note": "notes",
    "Reel": "reel",
    "Sc": "scene",
}

MAX_TAGS = 100  # tags a cue carries (a real cue has a dozen): bounds the work per cue

CUE_EXAMPLE = (
    "a cue is a clip on the character's track whose name carries its number, e.g. "
    "'\"Where were you?\" $QN=101', or a marker named like '101 JOHN'"
)

_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'"}


def read_protools(text: str, rate: Rate | None) -> Table:
    """The cues of a session text export as raw cues. With `rate` None only the declared rate
    is read (the caller decides the rate, then reads again with it)."""
    table = Table()
    session = read_session(text)
    fmt = session.header.get("TIMECODE FORMAT", "")
    if fmt:
        table.declared_rate = PROTOOLS_RATES.get(" ".join(fmt.lower().split()), fmt)
        table.declared_rate_line = session.header_lines.get("TIMECODE FORMAT")
    if rate is None:
        return table
    if not session.has_tracks and not session.has_markers:
        table.problems.append(
            Problem(
                None,
                "no T R A C K  L I S T I N G or M A R K E R S  L I S T I N G section: in "
                "Pro Tools tick 'Include Track EDLs' and 'Include Markers' in File > Export > "
                "Session Info as Text",
            )
        )
        return table
    if session.has_markers and not session.marker_header_ok:
        table.problems.append(
            Problem(
                session.marker_header_line,
                "the markers listing has no '#  LOCATION ... NAME' header line",
            )
        )
        return table
    _Reader(session, rate, table).read()
    return table


@dataclass
class _Span:
    """Where tags from a marker or a time-range clip apply, in frames since midnight."""

    start: int
    end: int | None  # None: to the end of the session (markers)
    track: int  # index of the track holding it (-1: a marker)
    tags: dict[str, str]
    line: int = 0  # where the marker or clip is in the file


class _Reader:
    def __init__(self, session: Session, rate: Rate, table: Table) -> None:
        self.session = session
        self.rate = rate
        self.table = table
        header = session.header
        self.counter = Counter(
            rate, header.get("SESSION START TIMECODE", ""), header.get("SAMPLE RATE", "")
        )
        self.session_tags = parse_tags(header.get("SESSION NAME", "")).tags
        self.marker_spans: list[_Span] = []
        self.range_spans: list[_Span] = []
        # Built once the spans are known: lookups in log time, whatever the file holds.
        self._marker_starts: list[int] = []
        self._marker_layers: list[dict[str, str]] = []  # tags of markers 0..k merged
        self._range_starts: list[int] = []
        self._range_reach: list[int] = []  # the latest end among ranges 0..k
        self._range_bounds: list[int] = []  # every range start and end, sorted
        # stretch index -> (ranges covering it in track order, their tags merged)
        self._covering: dict[int, tuple[list[_Span], dict[str, str]]] = {}
        self.skipped_clips = 0

    def read(self) -> None:
        cue_markers = self._scan_markers()
        self._scan_time_ranges()
        for index, track in enumerate(self.session.tracks):
            self._track_cues(index, track)
        for marker, name, comment in cue_markers:
            self._marker_cue(marker, name, comment)
        if not self.table.raws and not self.table.problems:
            self.table.problems.append(Problem(None, self._nothing_found()))

    def _too_many(self, tags: dict[str, str], line: int, what: str) -> bool:
        """A problem (and True) when `what` sets more tags than a cue can carry."""
        if len(tags) <= MAX_TAGS:
            return False
        self.table.problems.append(
            Problem(
                line or None,
                f"{what} set {len(tags)} different tags; a cue carries at most {MAX_TAGS}",
            )
        )
        return True

    # -- positions ------------------------------------------------------------------------------

    def _frames(self, label: str) -> int | None:
        try:
            return Timecode.parse(label, self.rate).frame_count
        except TimecodeError:
            return None

    def _label(self, value: str, line: int, what: str) -> str | None:
        try:
            return self.counter.label(value)
        except CounterError as exc:
            self.table.problems.append(Problem(line, f"{what}: {exc}"))
            return None

    # -- markers -------------------------------------------------------------------------------

    def _scan_markers(self) -> list[tuple[Marker, Tagged, Tagged]]:
        """Tag markers become spans; markers that are cues are returned for later."""
        cues = []
        for marker in self.session.markers:
            name, comment = parse_tags(marker.name), parse_tags(marker.comments)
            if "QN" in name.tags or "QN" in comment.tags or _legacy_number(name.text):
                cues.append((marker, name, comment))
                continue
            if name.text:
                self.table.warnings.append(
                    f"marker {marker.number} {marker.name!r} (line {marker.line}) skipped: "
                    "not a cue number"
                )
            tags = merge(name.tags, comment.tags)
            if tags and marker.track_type.lower() != "track":
                label = self._marker_label(marker)
                at = self._frames(label) if label else None
                if at is not None:
                    self.marker_spans.append(_Span(at, None, -1, tags, marker.line))
        self.marker_spans.sort(key=lambda s: s.start)
        layer: dict[str, str] = {}
        for span in self.marker_spans:
            layer = merge(layer, span.tags)
            if self._too_many(layer, span.line, "the markers up to this one"):
                break
            self._marker_starts.append(span.start)
            self._marker_layers.append(layer)
        return cues

    def _marker_label(self, marker: Marker) -> str | None:
        with contextlib.suppress(CounterError):  # not a counter stagebox reads: see below
            return self.counter.label(marker.location)
        # The main counter was not one stagebox reads: TIME REFERENCE in samples places it.
        if marker.units.lower() == "samples" and marker.time_reference.isdigit():
            try:
                return self.counter.label(marker.time_reference)
            except CounterError:
                return None
        return None

    def _marker_cue(self, marker: Marker, name: Tagged, comment: Tagged) -> None:
        label = self._marker_label(marker)
        if label is None:
            self.table.problems.append(
                Problem(
                    marker.line,
                    f"marker {marker.number} location {marker.location!r} is not timecode: "
                    "export with the main counter set to Timecode (or with TIME REFERENCE "
                    "in Samples)",
                )
            )
            return
        spot = spot_from(name, comment)
        if spot is None:
            return
        end = self._frames(spot.tc_out) if spot.tc_out else self._frames(label)
        tags = merge(self.session_tags, self._marker_tags(end), spot.tags)
        raw = _raw_cue(marker.line, tags, label, spot.tc_out, spot.character, spot.dialogue)
        raw.number = spot.number
        if spot.notes and not raw.notes:
            raw.notes = spot.notes
        self.table.raws.append(raw)

    def _marker_tags(self, end: int | None) -> dict[str, str]:
        """Tags of the ruler markers before a cue's end, the later marker winning."""
        if end is None:
            return {}
        k = bisect.bisect_left(self._marker_starts, end)  # markers starting before `end`
        return self._marker_layers[k - 1] if k else {}

    # -- clips ---------------------------------------------------------------------------------

    def _scan_time_ranges(self) -> None:
        for index, track in enumerate(self.session.tracks):
            spans = []
            for clip in _channel_clips(track):
                tagged = parse_tags(clip.name)
                if tagged.mode != TIME_RANGE or not tagged.tags:
                    continue
                start, end = (self._quiet_frames(v) for v in (clip.start, clip.end))
                if start is not None and end is not None and end > start:
                    spans.append(_Span(start, end, index, tagged.tags, clip.line))
            # Clips on one track never overlap in Pro Tools: a range ends where the next
            # starts (so a frame is inside at most one range per track).
            spans.sort(key=lambda s: s.start)
            for span, after in zip(spans, spans[1:], strict=False):
                span.end = min(span.end or after.start, after.start)
            self.range_spans.extend(s for s in spans if (s.end or 0) > s.start)
        self.range_spans.sort(key=lambda s: s.start)
        reach = -1
        for span in self.range_spans:
            reach = max(reach, span.end or 0)
            self._range_starts.append(span.start)
            self._range_reach.append(reach)
        self._range_bounds = sorted(
            {s.start for s in self.range_spans} | {s.end or 0 for s in self.range_spans}
        )

    def _ranges_at(self, frame: int, track: int) -> list[dict[str, str]]:
        """Tags of the time ranges on tracks above `track` that `frame` starts inside, in
        track order (a lower track's range wins).

        The ranges covering a frame change only at range boundaries: they are found once per
        stretch between two boundaries (and kept), not once per clip."""
        seg = bisect.bisect_right(self._range_bounds, frame) - 1
        if seg < 0:
            return []
        covering = self._covering.get(seg)
        if covering is None:
            at = self._range_bounds[seg]
            spans = []
            k = bisect.bisect_right(self._range_starts, at) - 1
            while k >= 0 and self._range_reach[k] > at:
                span = self.range_spans[k]
                if at < (span.end or 0):
                    spans.append(span)
                k -= 1
            spans.sort(key=lambda s: (s.track, s.start))
            merged = merge(*(s.tags for s in spans))
            if spans and self._too_many(merged, spans[-1].line, "the @ time ranges here"):
                spans, merged = [], {}
            covering = self._covering[seg] = (spans, merged)
        spans, merged = covering
        if not spans:
            return []
        if spans[-1].track < track:
            return [merged]  # every range above the clip's track: the usual case
        return [s.tags for s in spans if s.track < track]

    def _quiet_frames(self, value: str) -> int | None:
        try:
            return self._frames(self.counter.label(value))
        except CounterError:
            return None

    def _track_cues(self, index: int, track: Track) -> None:
        track_name = parse_tags(track.name)
        track_tags = merge(track_name.tags, parse_tags(track.comments).tags)
        if self._too_many(track_tags, track.line, f"track {track_name.text!r}"):
            return
        groups: list[list[tuple[Clip, Tagged]]] = []
        for clip in _channel_clips(track):
            tagged = parse_tags(clip.name)
            if tagged.mode == TIME_RANGE:
                continue
            if tagged.mode == CONTINUED and groups:
                groups[-1].append((clip, tagged))
            else:
                groups.append([(clip, tagged)])
        is_cue = [any("QN" in t.tags for _, t in g) for g in groups]
        cues = [g for g, yes in zip(groups, is_cue, strict=True) if yes]
        for group, yes in zip(groups, is_cue, strict=True):
            if not yes:
                self.skipped_clips += 1
                if cues:  # a character track: say which clip is left out
                    clip = group[0][0]
                    self.table.warnings.append(
                        f"clip {clip.name!r} on track {track.name!r} (line {clip.line}) has no "
                        "$QN= cue number: not a cue"
                    )
        for group in cues:
            self._clip_cue(index, track_name.text, track_tags, group)

    def _clip_cue(
        self, index: int, track_name: str, track_tags: dict, group: list[tuple[Clip, Tagged]]
    ) -> None:
        first, last = group[0][0], group[-1][0]
        # Earlier clips of a continued cue win over later ones, as the clip wins over its track.
        own = merge(*(t.tags for _, t in reversed(group)))
        if self._too_many(own, first.line, f"clip {own['QN']}"):
            return
        text = " ".join(t.text for _, t in group if t.text)
        tc_in = self._label(first.start, first.line, f"clip {own['QN']} START TIME")
        tc_out = self._label(last.end, last.line, f"clip {own['QN']} END TIME")
        if tc_in is None or tc_out is None:
            return
        start, end = self._frames(tc_in), self._frames(tc_out)
        ranges = self._ranges_at(start, index) if start is not None else []
        tags = merge(self.session_tags, self._marker_tags(end), *ranges, track_tags, own)
        self.table.raws.append(_raw_cue(first.line, tags, tc_in, tc_out, track_name, text))

    def _nothing_found(self) -> str:
        tracks = self.session.tracks
        clips = sum(len(_channel_clips(t)) for t in tracks)
        markers = len(self.session.markers)
        found = (
            f"{len(tracks)} track{'s' if len(tracks) != 1 else ''} with {clips} "
            f"clip{'s' if clips != 1 else ''} and {markers} marker{'s' if markers != 1 else ''}"
        )
        return f"no cue in this session ({found}, none of them a cue): {CUE_EXAMPLE}"


def _channel_clips(track: Track) -> list[Clip]:
    """A track's clips once each: a stereo track lists every clip once per channel."""
    seen: set[int] = set()
    clips = []
    for clip in sorted(track.clips, key=lambda c: c.channel):
        if clip.event not in seen:
            seen.add(clip.event)
            clips.append(clip)
    clips.sort(key=lambda c: c.event)
    return clips


def _raw_cue(
    line: int, tags: dict[str, str], tc_in: str, tc_out: str, character: str, text: str
) -> RawCue:
    fields = {name: tags.get(key, "") for key, name in FIELD_TAGS.items()}
    rest = {k: v for k, v in tags.items() if k not in FIELD_TAGS}
    return RawCue(
        line=line,
        number=fields["number"],
        tc_in=tc_in,
        tc_out=tc_out,
        character=fields["character"] or character,
        actor=fields["actor"],
        dialogue=fields["dialogue"] or _unquoted(text),
        notes=fields["notes"],
        reel=fields["reel"],
        scene=fields["scene"],
        tags=rest,
    )


def _unquoted(text: str) -> str:
    """A line written in one pair of quotes, without them (`"Here you are."`)."""
    text = text.strip()
    close = _QUOTES.get(text[:1])
    if close and len(text) > 1 and text.endswith(close) and close not in text[1:-1]:
        return text[1:-1].strip()
    return text


def _legacy_number(name_text: str) -> bool:
    """Older marker cues: the name's first word holds a digit (`101 JOHN`, `R2-14A`)."""
    return any(ch.isdigit() for ch in split_name(name_text)[0])
