"""Shared test fixtures: paths to the third-party LTC recordings and the reference decoder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
# Third-party recordings beside the checkout (GPL ones are read from here, never copied).
SHARED_SAMPLES = TESTS.parent.parent / "shared" / "ltc-samples"

sys.path.insert(0, str(TESTS))  # tests/libltc.py and other test helpers

# Keep SDL headless in every test (the display tests, pygame imports).
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


@pytest.fixture(scope="session")
def libltc():
    """libltc via ctypes; the suite requires it (Debian libltc11, installed by .ci/setup)."""
    import libltc as ref

    lib = ref.load()
    if lib is None:
        pytest.fail("libltc (Debian package libltc11) is required by the tests: run .ci/setup")
    return ref


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """../shared/ltc-samples, or skip: it is not part of the shipped suite."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("../shared/ltc-samples is not beside this checkout")
    return SHARED_SAMPLES
