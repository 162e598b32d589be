"""Memory budgets: refuse a request that cannot fit before allocating it.

`check_fits(nbytes, what, fix)` compares an estimated allocation with the memory this machine
has free (MemAvailable) and raises an InputError naming the estimate and the fix, so a too-large
lattice is one line instead of the kernel's OOM kill or a 70 GiB allocation error.
`chunk_size(bytes_each)` is how many items to hold at once to stay inside the working budget.
"""

import os

from tfphys.errors import InputError

WORKING_BUDGET = 512 << 20  # bytes a streamed chunk may take (configurations + network inputs)


def available_bytes():
    """Memory available to new allocations (Linux MemAvailable; total memory elsewhere)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def gib(nbytes):
    return f"{nbytes / (1 << 30):.1f} GiB"


def check_fits(nbytes, what, fix):
    """InputError unless `nbytes` fits in half the memory available now."""
    free = available_bytes()
    if nbytes > free // 2:
        raise InputError(f"{what} needs about {gib(nbytes)} of memory and {gib(free)} is free; {fix}")


def chunk_size(bytes_each, budget=WORKING_BUDGET):
    """Items of `bytes_each` bytes to process at once (at least 1) within `budget`."""
    return max(1, budget // max(1, int(bytes_each)))
