"""What every benchmark script prints and how it times: the machine, the command, best-of-N."""

import os
import sys
import time

from tfphys import environment


def header():
    """Print the machine and the command line, so every figure can be traced and rerun."""
    print(f"machine: {environment.machine()}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")


def best(fn, repeats):
    """(shortest wall time of `repeats` calls of fn, fn's last result)."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out
