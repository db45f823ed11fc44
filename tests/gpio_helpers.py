"""Helpers for the GPIO tests: a fake monotonic clock and pin maps with one field changed."""

from __future__ import annotations

import re
from pathlib import Path

from stagebox.gpio.pinmap import PinMap, parse_pinmap

ROOT = Path(__file__).resolve().parent.parent
PINMAP_PATH = ROOT / "hardware" / "pinmap.toml"
PINMAP_TEXT = PINMAP_PATH.read_text()


class FakeClock:
    """time.monotonic() and time.sleep() that only move when slept on; records each sleep."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds


def edit_pin(text: str, name: str, field: str, value: str) -> str:
    """`text` with pin `name`'s `field = ...` line replaced by `field = value` (TOML literal)."""
    blocks = re.split(r"(?m)^(?=\[\[pin\]\])", text)
    out = []
    for block in blocks:
        if re.search(rf'(?m)^name = "{re.escape(name)}"$', block):
            block, n = re.subn(rf"(?m)^{field} = .*$", f"{field} = {value}", block)
            assert n == 1, (name, field)
        out.append(block)
    return "".join(out)


def pinmap_with(name: str, field: str, value: str) -> PinMap:
    return parse_pinmap(edit_pin(PINMAP_TEXT, name, field, value), "test-pinmap.toml")
