"""What a take says about itself: the BWF `bext` chunk and the iXML chunk, built and parsed.

Pro Tools spots a take by bext TimeReference (samples since midnight of its first sample);
production tools (Pro Tools' field recorder workflow, Soundminer, Wave Agent, Resolve) read the
scene/take/circled/note and the track names from iXML. References: EBU Tech 3285 (bext layout,
offsets below), EBU R98 (CodingHistory), the iXML specification (ixml.info).

bext layout (byte offsets inside the chunk body, little-endian):
    0 Description[256]  256 Originator[32]  288 OriginatorReference[32]
    320 OriginationDate[10] "yyyy-mm-dd"  330 OriginationTime[8] "hh:mm:ss"
    338 TimeReferenceLow u32  342 TimeReferenceHigh u32  346 Version u16  348 UMID[64]
    412 five u16 loudness fields (version 2)  422 Reserved[180]  602 CodingHistory (text)
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from fractions import Fraction

from stagebox.timecode import RATES, Rate

BEXT_VERSION = 1  # UMID field present (zero), no loudness fields
ORIGINATOR = "stagebox"
IXML_VERSION = "2.10"
# XML 1.0 forbids these characters even escaped; a note typed on a phone may carry them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class TakeMetadataError(ValueError):
    """Metadata that cannot be written or read; the message says which field and why."""


@dataclass(frozen=True)
class Track:
    """One channel of the take as iXML TRACK_LIST describes it."""

    name: str  # e.g. "Boom", "Lav", "LTC"
    function: str = ""  # iXML FUNCTION, free text ("" leaves the element out)


@dataclass(frozen=True)
class TakeMetadata:
    """The stage's facts about a take (what the writer needs) and what a reader finds.

    The stage fills project/scene/take/circled/note/tape/rate/tracks. The file facts
    (sample_rate, bits, channels, time_reference, dates, coding_history) are filled in by the
    writer from the take's format and by `read_take_metadata` from the file.
    """

    project: str = ""  # iXML PROJECT: the production
    scene: str = ""  # iXML SCENE: the cue number ("1234" or "R2-17")
    take: str = ""  # iXML TAKE: the take number as text
    circled: bool = False  # iXML CIRCLED: a take the director wants
    note: str = ""  # iXML NOTE: free text
    tape: str = ""  # iXML TAPE: optional reel/roll ("" leaves it out)
    rate: Rate | None = None  # timecode rate: iXML SPEED TIMECODE_RATE/FLAG, MASTER_SPEED
    tracks: tuple[Track, ...] = ()  # one per channel; empty: "Ch1", "Ch2", ...
    # iXML USER, one "KEY: value" line each: what the cue sheet says of the take's cue beyond
    # SCENE (CHARACTER, LINE, ORIGINAL_LINE, TAG_R ...; see Cue.details).
    user: tuple[tuple[str, str], ...] = ()
    description: str = ""  # bext Description; empty: built from project/cue/take
    originator_reference: str = ""  # bext OriginatorReference; empty: a unique id
    # File facts, filled by the writer and by the reader.
    originator: str = ORIGINATOR  # bext Originator
    origination_date: str = ""  # bext "yyyy-mm-dd" (local wall clock when the take opened)
    origination_time: str = ""  # bext "hh:mm:ss"
    time_reference: int = 0  # samples since midnight of the take's first sample
    bext_version: int = BEXT_VERSION
    coding_history: str = ""
    sample_rate: int = 0  # Hz
    bits: int = 0  # bits per sample as written
    channels: int = 0
    ixml: dict[str, str] = field(default_factory=dict, compare=False)  # raw iXML text fields

    def with_file_facts(self, **facts) -> TakeMetadata:
        return replace(self, **facts)


# ---------------------------------------------------------------------------------------------
# bext


def _ascii_field(name: str, text: str, size: int) -> bytes:
    raw = text.encode("ascii", "replace")  # bext text fields are ASCII by the spec
    if len(raw) > size:
        raise TakeMetadataError(f"bext {name} is {len(raw)} characters, the field holds {size}")
    return raw.ljust(size, b"\0")


def coding_history_line(sample_rate: int, bits: int, channels: int, version: str) -> str:
    """One EBU R98 CodingHistory line for audio recorded straight to this file."""
    mode = {1: "mono", 2: "stereo"}.get(channels, "multitrack")
    return f"A=PCM,F={sample_rate},W={bits},M={mode},T=stagebox {version}\r\n"


def build_bext(meta: TakeMetadata) -> bytes:
    """The bext chunk body (602 bytes + CodingHistory, padded to an even length)."""
    if not 0 <= meta.time_reference < 1 << 64:
        raise TakeMetadataError(f"bext TimeReference {meta.time_reference} is outside 0..2^64-1")
    body = b"".join(
        (
            _ascii_field("Description", meta.description, 256),
            _ascii_field("Originator", meta.originator, 32),
            _ascii_field("OriginatorReference", meta.originator_reference, 32),
            _ascii_field("OriginationDate", meta.origination_date, 10),
            _ascii_field("OriginationTime", meta.origination_time, 8),
            struct.pack(
                "<IIH",
                meta.time_reference & 0xFFFFFFFF,
                meta.time_reference >> 32,
                meta.bext_version,
            ),
            bytes(64),  # UMID: none
            bytes(10),  # loudness fields (version 2 only): zero
            bytes(180),  # reserved
            meta.coding_history.encode("ascii", "replace"),
        )
    )
    return body + b"\0" * (len(body) % 2)


def parse_bext(body: bytes) -> dict:
    """bext fields by name (text stripped of NULs)."""
    if len(body) < 348:
        raise TakeMetadataError(f"bext chunk is {len(body)} bytes, needs at least 348")

    def text(a: int, b: int) -> str:
        return body[a:b].split(b"\0", 1)[0].decode("ascii", "replace")

    low, high, version = struct.unpack("<IIH", body[338:348])
    return {
        "description": text(0, 256),
        "originator": text(256, 288),
        "originator_reference": text(288, 320),
        "origination_date": text(320, 330),
        "origination_time": text(330, 338),
        "time_reference": low | high << 32,
        "bext_version": version,
        "coding_history": body[602:].split(b"\0", 1)[0].decode("ascii", "replace"),
    }


# ---------------------------------------------------------------------------------------------
# iXML


def _clean(text: object) -> str:
    """Text as XML will give it back: illegal characters dropped, line ends as LF."""
    return _XML_ILLEGAL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def speed_text(rate: Rate) -> str:
    """iXML speed notation: 24000/1001, 25/1, 30000/1001."""
    fps = Fraction(rate.fps)
    return f"{fps.numerator}/{fps.denominator}"


def build_ixml(meta: TakeMetadata, *, file_uid: str = "", filename: str = "") -> str:
    """The iXML document (text, not yet padded) for a take."""
    if meta.rate is None:
        raise TakeMetadataError("iXML needs the timecode rate (metadata.rate is None)")
    root = ET.Element("BWFXML")

    def sub(parent: ET.Element, tag: str, value: object) -> ET.Element:
        el = ET.SubElement(parent, tag)
        el.text = _clean(value)
        return el

    sub(root, "IXML_VERSION", IXML_VERSION)
    sub(root, "PROJECT", meta.project)
    sub(root, "SCENE", meta.scene)
    sub(root, "TAKE", meta.take)
    if meta.tape:
        sub(root, "TAPE", meta.tape)
    sub(root, "CIRCLED", "TRUE" if meta.circled else "FALSE")
    if file_uid:
        sub(root, "FILE_UID", file_uid)
    sub(root, "NOTE", meta.note)
    if meta.user:
        sub(root, "USER", "\n".join(f"{key}: {value}" for key, value in meta.user))
    speed = ET.SubElement(root, "SPEED")
    tc_rate = speed_text(meta.rate)
    sub(speed, "MASTER_SPEED", tc_rate)
    sub(speed, "CURRENT_SPEED", tc_rate)
    sub(speed, "TIMECODE_RATE", tc_rate)
    sub(speed, "TIMECODE_FLAG", "DF" if meta.rate.drop_frame else "NDF")
    sub(speed, "FILE_SAMPLE_RATE", meta.sample_rate)
    sub(speed, "AUDIO_BIT_DEPTH", meta.bits)
    sub(speed, "DIGITIZER_SAMPLE_RATE", meta.sample_rate)
    sub(speed, "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI", meta.time_reference >> 32)
    sub(speed, "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO", meta.time_reference & 0xFFFFFFFF)
    sub(speed, "TIMESTAMP_SAMPLE_RATE", meta.sample_rate)
    if filename:
        history = ET.SubElement(root, "HISTORY")
        sub(history, "ORIGINAL_FILENAME", filename)
    tracks = ET.SubElement(root, "TRACK_LIST")
    sub(tracks, "TRACK_COUNT", meta.channels)
    for i, track in enumerate(track_names(meta), start=1):
        el = ET.SubElement(tracks, "TRACK")
        sub(el, "CHANNEL_INDEX", i)
        sub(el, "INTERLEAVE_INDEX", i)
        sub(el, "NAME", track.name)
        if track.function:
            sub(el, "FUNCTION", track.function)
    ET.indent(root, space="\t")
    body = ET.tostring(root, encoding="unicode")  # escapes &, <, > (and quotes in attributes)
    return '<?xml version="1.0" encoding="UTF-8"?>\r\n' + body + "\r\n"


def track_names(meta: TakeMetadata) -> tuple[Track, ...]:
    if meta.tracks and len(meta.tracks) != meta.channels:
        raise TakeMetadataError(
            f"{len(meta.tracks)} track names given for a {meta.channels}-channel take"
        )
    return meta.tracks or tuple(Track(f"Ch{i}") for i in range(1, meta.channels + 1))


def pad_ixml(text: str, size: int) -> bytes:
    """The iXML text as UTF-8, padded with spaces (legal after the root element) to `size`."""
    raw = text.encode("utf-8")
    if len(raw) > size:
        raise TakeMetadataError(f"iXML is {len(raw)} bytes, the reserved chunk holds {size}")
    return raw + b" " * (size - len(raw))


MAX_IXML_DEPTH = 32  # elements: real iXML nests 3 or 4 deep (BWFXML/TRACK_LIST/TRACK/NAME)


def parse_ixml(raw: bytes) -> ET.Element:
    text = raw.rstrip(b" \0\r\n\t").decode("utf-8", "replace")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TakeMetadataError(f"iXML does not parse: {exc}") from None
    # Walking and writing the tree recurse per level: a hostile file must not reach the limit.
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_IXML_DEPTH:
            raise TakeMetadataError(f"iXML is nested deeper than {MAX_IXML_DEPTH} elements")
        stack.extend((child, depth + 1) for child in element)
    return root


def ixml_fields(root: ET.Element) -> dict[str, str]:
    """Every leaf element as PATH -> text ("SPEED/TIMECODE_RATE"), first occurrence wins."""
    out: dict[str, str] = {}

    def walk(el: ET.Element, prefix: str) -> None:
        for child in el:
            path = f"{prefix}{child.tag}"
            if len(child):
                walk(child, path + "/")
            else:
                out.setdefault(path, child.text or "")

    walk(root, "")
    return out


def rate_from_ixml(rate_text: str, flag: str) -> Rate | None:
    """The Rate for TIMECODE_RATE ("24000/1001") and TIMECODE_FLAG ("DF"/"NDF"), or None."""
    try:
        num, _, den = rate_text.partition("/")
        fps = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    drop = flag.strip().upper() == "DF"
    for rate in RATES:
        if rate.fps == fps and rate.drop_frame == drop:
            return rate
    return None


def metadata_from_chunks(bext: bytes | None, ixml: bytes | None) -> TakeMetadata:
    """TakeMetadata from raw bext and iXML chunk bodies (either may be missing)."""
    facts: dict = {}
    if bext is not None:
        facts.update(parse_bext(bext))
    if ixml is not None:
        root = parse_ixml(ixml)
        f = ixml_fields(root)
        tracks = tuple(
            Track(t.findtext("NAME", ""), t.findtext("FUNCTION", "")) for t in root.iter("TRACK")
        )
        facts.update(
            project=f.get("PROJECT", ""),
            scene=f.get("SCENE", ""),
            take=f.get("TAKE", ""),
            circled=f.get("CIRCLED", "").strip().upper() == "TRUE",
            note=f.get("NOTE", ""),
            tape=f.get("TAPE", ""),
            rate=rate_from_ixml(f.get("SPEED/TIMECODE_RATE", ""), f.get("SPEED/TIMECODE_FLAG", "")),
            tracks=tracks,
            user=tuple(
                (key.strip(), value.strip())
                for key, sep, value in (ln.partition(":") for ln in f.get("USER", "").splitlines())
                if sep
            ),
            ixml=f,
        )
    return TakeMetadata(**facts)


def rewrite_ixml(raw: bytes, *, circled: bool | None, note: str | None) -> str:
    """The iXML text of `raw` with CIRCLED and/or NOTE replaced (other elements kept)."""
    root = parse_ixml(raw)
    for tag, value in (("CIRCLED", circled), ("NOTE", note)):
        if value is None:
            continue
        el = root.find(tag)
        if el is None:
            el = ET.SubElement(root, tag)
        if tag == "CIRCLED":
            el.text = "TRUE" if value else "FALSE"
        else:
            el.text = _clean(value)
    return '<?xml version="1.0" encoding="UTF-8"?>\r\n' + ET.tostring(root, "unicode") + "\r\n"
