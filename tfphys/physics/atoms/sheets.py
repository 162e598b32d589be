"""Hexagonal sheets in rectangular periodic cells: graphene and hexagonal boron nitride as the
thesis's 12.3 x 12.8 Angstrom, 60-atom cell (5 x 3 rectangular 4-atom cells) or any repeat."""

import ase
import numpy as np

from tfphys import checks
from tfphys.errors import InputError

LATTICE = {"graphene": (("C", "C"), 2.46), "hbn": (("B", "N"), 2.504)}  # Angstrom
VACUUM = 15.0  # Angstrom of cell along z: the sheet is periodic in-plane only
THESIS_REPEAT = (5, 3)  # 12.3 x 12.8 Angstrom, 60 atoms


def hexagonal(material="graphene", repeat=THESIS_REPEAT, a=None):
    """A flat sheet in the xy plane (z = VACUUM / 2), pbc along x and y only; the two
    sublattices hold the material's two species (B and N alternate in hBN)."""
    if material not in LATTICE:
        raise InputError(f"unknown sheet material {material!r}; choose from {sorted(LATTICE)}")
    (first, second), default = LATTICE[material]
    a = checks.real("lattice constant", a if a is not None else default, low=0, strict=True)
    n1, n2 = (checks.integer("repeat", n, low=1) for n in repeat)
    unit = ase.Atoms(f"{first}{second}{first}{second}",
                     scaled_positions=[[0, 0, 0.5], [0.5, 1 / 6, 0.5], [0.5, 0.5, 0.5],
                                       [0, 2 / 3, 0.5]],
                     cell=[a, a * np.sqrt(3), VACUUM], pbc=[True, True, False])
    return unit.repeat((n1, n2, 1))
