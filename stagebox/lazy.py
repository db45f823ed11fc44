"""Package names imported on first use (PEP 562), so a light command loads only what it uses.

`stagebox status` must answer at once over SSH: it may touch `stagebox.cues.Cue` but not the
cue sheet importers, `stagebox ltc decode` the decoder but not the encoder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(namespace: dict, homes: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `namespace` (the package's `globals()`): `homes` maps each
    name to the module defining it; the name is imported and kept on first use."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
