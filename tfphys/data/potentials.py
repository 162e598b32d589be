"""Labelled potential datasets for the Schrödinger networks: potentials of one class (thesis
Appendix B) with eps0, eps1 and <T> from the finite-difference solver, the parameters that drew
them and the SHA3 train/test flag (20 % test: the thesis's 200,000 + 50,000 per class).

`examples(kind, count, seed)` makes one shard's worth; bin/generate_potentials seeds shard k
with (seed, k), so a resumed or healed dataset is remade identically. Potentials are stored as
float32 (256 KiB each), energies in Hartree as float64.
"""

import numpy as np

from tfphys.data import split
from tfphys.physics.schrodinger import potentials, solver

TEST_FRACTION = 0.2
LABELS = ("eps0", "eps1", "kinetic")


def examples(kind, count, seed=None, workers=None, n=potentials.SIZE):
    """{"potential" (count, n, n) float32, "eps0", "eps1", "kinetic" (count,), "test" (count,),
    "param_<name>" (count,)} of `count` new potentials of `kind`."""
    V, params = potentials.generate(kind, count, seed, n)
    stored = V.astype(np.float32)
    eps0, eps1, kinetic = solver.solve_many(stored, workers=workers)  # the potential as stored
    return {"potential": stored, "eps0": eps0, "eps1": eps1, "kinetic": kinetic,
            "test": split.is_test(stored, TEST_FRACTION),
            **{f"param_{name}": np.asarray(value, np.float64) for name, value in params.items()}}
