"""Numbers on the command line: finite, in ASCII digits, or argparse refuses them in one line.

argparse's `type=float` takes `nan`, `inf` and `1e400` (then a duration of NaN seconds reaches
the code as a traceback), and `type=int` takes Arabic-Indic or full-width digits. Every
numeric option of the `stagebox` commands uses these instead.
"""

from __future__ import annotations

import argparse
import math


def number(text: str) -> float:
    """A finite decimal number written in ASCII (`2.5`, `-20`, `1e3`)."""
    if not text.strip().isascii():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (use the digits 0-9)")
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def whole(text: str) -> int:
    """A whole number written in ASCII digits (`48000`, `-3`)."""
    if not text.strip().isascii():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (use the digits 0-9)")
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
