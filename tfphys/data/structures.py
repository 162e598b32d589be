"""Labelled atom images from structure files: anything ASE reads (extxyz, vasprun.xml, POSCAR,
cif ...) becomes the thesis's Gaussian image (`physics.atoms.images`) and, when the file
carries one, an energy label in eV, so a user's DFT energies plug in unchanged."""

import math
import os

import ase.io
import numpy as np

from tfphys.errors import InputError
from tfphys.physics.atoms import images


def read(paths):
    """Every structure of every file in `paths` (a file may hold several frames)."""
    found = []
    for path in paths:
        if not os.path.isfile(path):
            raise InputError(f"no structure file {path}")
        try:
            frames = ase.io.read(path, index=":")
        except Exception as error:  # ASE raises many kinds for a file it cannot parse
            raise InputError(f"ASE cannot read {path} as a structure ({type(error).__name__}: "
                             f"{str(error)[:120]}); give a format ASE reads (extxyz, POSCAR, "
                             "vasprun.xml, cif ...)") from None
        found += frames if isinstance(frames, list) else [frames]
    return found


def energy(atoms, where="structure"):
    """The structure's stored potential energy in eV, or None when it carries none."""
    results = getattr(atoms.calc, "results", None) or {}
    if "energy" not in results:
        return None
    value = float(results["energy"])
    if not math.isfinite(value):
        raise InputError(f"{where} has energy {value}; remove it or fix its label")
    return value


def examples(structures, shape, gamma=images.GAMMA, z_max=images.Z_MAX):
    """{"image": (n, n1, n2) float32, "energy": (n,) float64 eV, NaN where a structure has
    none, "atoms": (n,) counts, "area": (n,) Angstrom^2 of the in-plane cell}."""
    energies = [energy(a, f"structure {k} ({a.get_chemical_formula()})")
                for k, a in enumerate(structures)]
    return {"image": images.images(structures, shape, gamma, z_max),
            "energy": np.array([np.nan if e is None else e for e in energies]),
            "atoms": np.array([len(a) for a in structures]),
            "area": np.array([images.area(a) for a in structures])}
