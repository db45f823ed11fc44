"""The machine the doctor examines, read through a root folder.

On the Pi the root is "/"; in tests it is a folder holding a fake /proc, /sys, /dev, /boot
and /etc, so every check runs for its PASS and its FAIL without a Pi. The architecture
(normally the running interpreter's) is a field too, for the same reason.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path


def _this_arch() -> tuple[str, int]:
    return os.uname().machine, struct.calcsize("P") * 8


@dataclass
class Machine:
    root: Path = Path("/")
    arch: tuple[str, int] = field(default_factory=_this_arch)  # (uname machine, userland bits)

    def path(self, absolute: str) -> Path:
        """`absolute` ("/proc/device-tree/model") under the root."""
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str) -> str | None:
        """The file's text (NULs, as in device-tree strings, dropped), or None if unreadable."""
        try:
            return self.path(absolute).read_bytes().decode("utf-8", "replace").replace("\0", "")
        except OSError:
            return None

    def first(self, *candidates: str) -> str | None:
        """The first of `candidates` that exists (absolute, as on the Pi), or None."""
        for candidate in candidates:
            if self.path(candidate).exists():
                return candidate
        return None
