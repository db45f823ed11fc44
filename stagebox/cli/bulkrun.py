"""Process settings for a command that works through one big file and exits (`stagebox ltc
decode` of a 30-minute reel).

Such a command's time goes to numpy calls on arrays of a few hundred kilobytes, made and freed
thousands of times, and to the Python objects of its results. Three process-wide defaults,
right for a long-running service, cost it a third of its CPU time (measured on the 30-minute
reel, docs/benchmarks.md):

- glibc's allocator returns freed blocks of that size to the kernel (`mmap` and its heap
  trimmed), so every new array is fresh memory the kernel must map and zero, page by page:
  about 0.1 s of system time on the reel. `mallopt` keeps them in the heap instead.
- OpenBLAS starts a thread per core when numpy is imported and wakes them for the decoder's
  small matrix products: 40 to 60 ms of CPU for nothing, as the decoder is single-threaded.
  Asked for one thread before numpy is imported, it starts none.
- Python's cyclic garbage collector walks every object the command keeps (a tuple per frame)
  each time enough new ones have been made: about 45 ms. The command makes no cycles; the
  collector is paused while it runs.

`bulk_run()` applies them for the duration of a `with` block and puts back what can be put
back (the collector, the environment); the allocator's thresholds stay for the rest of the
process, which is about to end.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
HEAP_KEEP = 64 << 20  # bytes: free heap kept before trimming (the decoder's peak is ~30 MB)
MMAP_FROM = 32 << 20  # bytes: blocks this large and up still come straight from the kernel

# Thread counts read by the BLAS numpy may be built with, when it is imported.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def bulk_run() -> Iterator[None]:
    """Run the block with the allocator, BLAS and collector set for bulk work."""
    saved = {name: os.environ.get(name) for name in _BLAS_THREADS}
    if "numpy" not in sys.modules:  # (numpy reads them once, when imported)
        for name in _BLAS_THREADS:
            os.environ.setdefault(name, "1")
    keep_heap()
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def keep_heap() -> bool:
    """Keep freed memory in the heap for reuse (glibc's `mallopt`); False where the C
    library has no such call (another libc), which changes nothing but speed."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError, ImportError):
        return False
    # (the trim threshold first: setting either one turns glibc's sliding thresholds off)
    return bool(mallopt(M_TRIM_THRESHOLD, HEAP_KEEP)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_FROM))
