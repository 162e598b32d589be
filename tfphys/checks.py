"""Argument checks shared by the physics and data layers: one InputError naming the argument.

Physical parameters are validated where a model or engine is built, so the command line and the
Python API refuse the same values with the same message (the CLI flags carry the same names).
"""

import math
import numbers

import numpy as np

from tfphys.errors import InputError


def integer(name, value, low=None):
    """`value` as an int (an integral number, not a bool), at least `low`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise InputError(f"{name} must be >= {low}, got {value}")
    return int(value)


def real(name, value, low=None, strict=False, nonzero=False):
    """`value` as a finite float, > `low` (strict) or >= `low`, optionally nonzero."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if strict else value < low):
        raise InputError(f"{name} must be {'>' if strict else '>='} {low}, got {value}")
    if nonzero and value == 0:
        raise InputError(f"{name} must not be 0")
    return float(value)


def generator_average(value):
    """`value` (--average) as the momentum of a generator's weight average, in [0, 1)."""
    if not 0 <= real("average", value) < 1:
        raise InputError(f"--average is the momentum of the generator's weight average, in "
                         f"[0, 1) (0: none); got {value}")
    return float(value)


def spins(name, values):
    """InputError unless every value is -1 or +1 (Ising spins)."""
    values = np.asarray(values)
    if values.size and not np.all(np.abs(values) == 1):
        bad = np.unique(values[np.abs(values) != 1])[:5]
        raise InputError(f"{name} must be +-1 spins, found {bad.tolist()}")
    return values
