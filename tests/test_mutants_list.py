"""bench/mutants.py stays runnable: every mutant's text is still in its file, once, and the
mutated file compiles. (The mutation check itself is slow and runs outside pytest.)"""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "mutants.py"


def test_every_mutant_still_applies():
    spec = importlib.util.spec_from_file_location("bench_mutants", BENCH)
    mutants = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mutants  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mutants)
    finally:
        del sys.modules[spec.name]
    assert mutants.check_mutants() == []
    assert len(mutants.MUTANTS) >= 30
    for m in mutants.MUTANTS:
        for test in m.tests:
            assert (BENCH.parent.parent / test).is_file(), f"{m.name}: no {test}"
