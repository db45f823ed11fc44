"""`stagebox ltc ...`: generate LTC to a WAV file, and decode the LTC in a WAV file.

`ltc decode` is a whole-process tool (run on 30-minute reels), so its path is kept lean: it
runs with the process set for bulk work (`bulkrun.py`: the allocator keeps its memory, one
BLAS thread, the collector paused); the file's channel goes to the decoder straight from the
memory map in its own sample type; the decoder gives each block's frames as columns
(`LTCDecoder.decode_table`, brief: no object per frame, nothing the lines do not show),
which give their lines (`frametext.py`, built as one byte array) and the summary (worked
out on arrays at the end); it imports neither the encoder nor what `--json` needs unless
asked.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING

from stagebox.cli import CLIError
from stagebox.cli.argtypes import number, whole
from stagebox.timecode import (
    RATES,
    Rate,
    Timecode,
    TimecodeError,
    dropped_per_minute,
    format_label,
    label_frame_count,
)

if TYPE_CHECKING:
    import numpy as np

    from stagebox.ltc.frame import LTCFrame


def register(sub: argparse._SubParsersAction) -> None:
    ltc = sub.add_parser("ltc", help="generate and decode LTC audio")
    cmds = ltc.add_subparsers(dest="ltc_command", metavar="ACTION")
    cmds.required = True

    gen = cmds.add_parser("generate", help="write LTC to a WAV file")
    gen.add_argument("out", metavar="OUT.wav")
    gen.add_argument("--start", required=True, metavar="TC", help="first frame, HH:MM:SS:FF")
    gen.add_argument("--fps", required=True, metavar="RATE", help="23.976, 24, 25, 29.97, 30")
    gen.add_argument("--drop-frame", action="store_true", help="drop-frame labels (29.97, 30)")
    gen.add_argument("--seconds", type=number, required=True, metavar="S")
    gen.add_argument("--rate", type=whole, default=48000, metavar="HZ", help="sample rate")
    gen.add_argument("--level", type=number, metavar="DBFS", help="peak level (default -18)")
    gen.add_argument("--user-bits", type=lambda s: int(s, 0), default=0, metavar="N")
    gen.set_defaults(func=run_generate)

    dec = cmds.add_parser(
        "decode",
        help="print the LTC frames in a WAV file",
        description="Decode the LTC in one channel of a WAV file: one line per frame "
        "(timecode, start and end sample, R when played backwards) on stdout, a summary on "
        "stderr.",
    )
    dec.add_argument("file", metavar="FILE.wav")
    dec.add_argument("--channel", type=whole, default=1, metavar="N", help="channel, from 1")
    dec.add_argument("--json", action="store_true", help="one JSON object per frame")
    dec.set_defaults(func=run_decode)


def rate_from_args(fps: str, drop_frame: bool) -> Rate:
    try:
        rate = Rate.parse(fps)
    except TimecodeError as exc:
        raise CLIError(str(exc)) from None
    if drop_frame and not rate.drop_frame:
        if rate.nominal != 30:
            raise CLIError(f"--drop-frame needs a 30-frame rate (29.97 or 30), not {fps}")
        rate = Rate.parse(f"{rate.name}df")
    return rate


GENERATE_BLOCK = 1 << 20  # samples rendered and written at a time


def run_generate(args: argparse.Namespace) -> int:
    import wave

    import numpy as np

    from stagebox.ltc.encoder import DEFAULT_LEVEL_DBFS, LTCEncoder

    rate = rate_from_args(args.fps, args.drop_frame)
    if not 0 < args.seconds <= MAX_GENERATE_SECONDS:
        raise CLIError(f"--seconds {args.seconds:g} is outside 0..{MAX_GENERATE_SECONDS}")
    if not 8000 <= args.rate <= 192000:
        raise CLIError(f"--rate {args.rate} Hz is outside 8000..192000")
    try:
        start = Timecode.parse(args.start, rate)
    except TimecodeError as exc:
        raise CLIError(f"--start: {exc}") from None
    level = DEFAULT_LEVEL_DBFS if args.level is None else args.level
    encoder = LTCEncoder(args.rate, rate, level_dbfs=level, user_bits=args.user_bits)
    encoder.locate(start, at=0)
    n = int(round(args.seconds * args.rate))
    try:
        with wave.open(args.out, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(args.rate)
            # Block by block: 30 minutes at 48 kHz in a few MB of memory, not gigabytes.
            for pos in range(0, n, GENERATE_BLOCK):
                block = encoder.render(min(GENERATE_BLOCK, n - pos))
                out.writeframes(np.round(block * 32767).astype("<i2").tobytes())
    except OSError as exc:
        raise CLIError(f"{args.out}: {exc.strerror or exc}") from None
    frames = sum(1 for f in encoder.emitted if f.end <= n)
    print(
        f"{args.out}: {frames} frames of {rate} LTC from {start}, {args.rate} Hz", file=sys.stderr
    )
    return 0


MAX_GENERATE_SECONDS = 3600  # an hour of LTC (a test signal, not a programme's length)
# Samples decoded at a time: a view of the file's memory map (no copy; a 24-bit file's are
# read as float32, 16 MB), about 87 s at 48 kHz, whose lines are then printed.
DECODE_BLOCK = 1 << 22


def run_decode(args: argparse.Namespace) -> int:
    from stagebox.cli.bulkrun import bulk_run

    with bulk_run():
        return _decode(args)


def _decode(args: argparse.Namespace) -> int:
    from stagebox.cli.frametext import frame_columns, frame_text
    from stagebox.ltc.decoder import LTCDecoder
    from stagebox.wavfile import WavError, WavReader

    try:
        reader = WavReader(args.file)
    except WavError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"{args.file}: {exc.strerror or exc}") from None
    with reader:
        info = reader.info
        if not 1 <= args.channel <= info.channels:
            raise CLIError(
                f"{args.file}: no channel {args.channel} (the file has {info.channels}; "
                "channels count from 1)"
            )
        try:
            decoder = LTCDecoder(info.sample_rate)
        except ValueError as exc:
            raise CLIError(f"{args.file}: {exc}") from None
        out = sys.stdout
        seen = Seen()

        def show(found: list[LTCFrame] | dict | None) -> None:
            if not found:
                return
            if args.json:
                cols = frame_columns(found)
                out.write(_json_lines(found))
            else:
                cols = found  # the decoder's columns (brief: only what the lines show)
                out.write(frame_text(cols))
            seen.add(cols)

        # Text: the frames as columns, straight into the lines (no object per frame).
        if args.json:
            decode, flush = decoder.decode, decoder.flush
        else:
            decode = functools.partial(decoder.decode_table, brief=True)
            flush = functools.partial(decoder.flush_table, brief=True)

        for pos in range(0, reader.frames, DECODE_BLOCK):
            try:
                # The file's own samples (int16 for most LTC), no copy: the decoder scales
                # them as it takes them in.
                block = reader.samples(pos, DECODE_BLOCK, channel=args.channel - 1)
            except WavError as exc:
                raise CLIError(str(exc)) from None
            found = decode(block, pos)
            del block  # a view of the file's map
            show(found)
        show(flush())
    print(f"{args.file}: {summary(seen, info.sample_rate)}", file=sys.stderr)
    return 0


# The frames' columns the summary reads.
SUMMARY_FIELDS = ("hours", "minutes", "seconds", "frames", "drop_frame", "start", "end", "reverse")


class Seen:
    """What the summary needs of the frames printed: the columns of all (`frame_columns`
    or the decoder's `decode_table`), gathered block by block."""

    def __init__(self) -> None:
        self.count = 0
        self._parts: list[dict[str, np.ndarray]] = []

    def add(self, cols: dict[str, np.ndarray]) -> None:
        self.count += cols["hours"].size
        self._parts.append(cols)

    def label(self, row: int) -> str:
        """The label of frame `row` (0 the first, -1 the last) of those seen."""
        part = self._parts[0 if row >= 0 else -1]
        fields = ("hours", "minutes", "seconds", "frames", "drop_frame")
        return format_label(*(part[k][row].item() for k in fields))

    def columns(self) -> dict[str, np.ndarray]:
        import numpy as np

        if len(self._parts) > 1:
            self._parts = [{k: np.concatenate([p[k] for p in self._parts]) for k in SUMMARY_FIELDS}]
        return self._parts[0]


def frame_record(frame: LTCFrame) -> dict:
    """What `--json` prints for one frame."""
    return {
        "timecode": frame.label,
        "start": round(frame.start, 3),  # samples (fractional)
        "end": round(frame.end, 3),
        "reverse": frame.reverse,
        "drop_frame": frame.drop_frame,
        "colour_frame": frame.colour_frame,
        "user_bits": f"{frame.user_bits:08x}",
        "binary_group_flags": frame.binary_group_flags,
        "level_dbfs": round(frame.level, 1),
    }


def _json_lines(frames: list[LTCFrame]) -> str:
    import json

    return "".join(json.dumps(frame_record(f)) + "\n" for f in frames)


def detected_rate(cols: dict[str, np.ndarray], sample_rate: int) -> Rate | None:
    """The standard rate nearest the median frame period (DF from the frames' flag)."""
    fps = sample_rate / median_period(cols)
    drop = median(cols["drop_frame"]) >= 0.5
    best = min(RATES, key=lambda r: (abs(float(r.fps) - fps), r.drop_frame != drop))
    if abs(float(best.fps) - fps) > 0.005 * fps:
        return None  # off-speed: no standard rate within 0.5 %
    return best


def median_period(cols: dict[str, np.ndarray]) -> float:
    """The frames' median length in samples (either direction)."""
    import numpy as np

    return median(np.abs(cols["end"] - cols["start"]))


def median(values: np.ndarray) -> float:
    """`np.median` of finite values, to the bit (the middle value, or the mean of the two
    middle ones), without what np.median imports on first use (numpy.ma, 5 ms: a tenth of
    the summary's time)."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64).ravel()
    k = a.size // 2
    if a.size % 2:
        return float(np.partition(a, k)[k])
    middle = np.partition(a, [k - 1, k])
    return float((middle[k - 1] + middle[k]) / 2.0)


def discontinuities(cols: dict[str, np.ndarray], rate: Rate) -> int:
    """Label jumps: consecutive frames whose labels are not one frame apart (in the play
    direction of the later one); a label that cannot exist at `rate` breaks the chain."""
    import numpy as np

    h, m, s, f = (cols[k].astype(np.int64) for k in ("hours", "minutes", "seconds", "frames"))
    exists = label_exists(h, m, s, f, rate)
    count = label_frame_count(h, m, s, f, rate)
    per_day = rate.frames_per_day
    step = np.where(cols["reverse"][1:], per_day - 1, 1)  # -1 or +1, modulo a day
    pairs = exists[1:] & exists[:-1]
    return int(np.count_nonzero(pairs & ((count[1:] - count[:-1]) % per_day != step)))


def label_exists(h: np.ndarray, m: np.ndarray, s: np.ndarray, f: np.ndarray, rate: Rate):
    """Elementwise over arrays of label fields: the labels `Timecode` accepts at `rate` (those
    `label_problem` finds nothing wrong with)."""
    ok = (h >= 0) & (h <= 23) & (m >= 0) & (m <= 59) & (s >= 0) & (s <= 59)
    ok &= (f >= 0) & (f < rate.nominal)
    ok &= ~((s == 0) & (m % 10 != 0) & (f < dropped_per_minute(rate)))  # DF's skipped labels
    return ok


def summary(seen: Seen, sample_rate: int) -> str:
    if not seen.count:
        return "no LTC frames found"
    import numpy as np

    cols = seen.columns()
    rate = detected_rate(cols, sample_rate)
    fps = sample_rate / median_period(cols)
    rate_text = f"{rate} fps" if rate else f"{fps:.3f} fps (no standard rate)"
    reverse = int(np.count_nonzero(cols["reverse"]))
    jumps = discontinuities(cols, rate) if rate is not None else 0
    text = (
        f"{seen.count} frames, {seen.label(0)} .. {seen.label(-1)}, {rate_text}, "
        f"{jumps} discontinuities"
    )
    if reverse:
        text += f", {reverse} played backwards"
    return text
