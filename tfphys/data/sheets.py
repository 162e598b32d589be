"""Labelled sheet datasets for the atomistic EDNN: hexagonal sheets (graphene and hBN in the
thesis's 60-atom cell, with and without vacancies and substitutions) or porous graphene, each
with its electronic-structure energy (`physics.atoms.labeller`), its image, the structure
itself (padded to the pristine cell's atom count, atomic number 0 = no atom) and the SHA3
train/test flag of its image (20 %).

`examples(kind, count, seed, method)` makes one shard's worth; bin/generate_sheets seeds shard
k with (seed, k), so a resumed dataset is remade identically.
"""

import concurrent.futures
import os

import numpy as np
from threadpoolctl import threadpool_limits

from tfphys.data import split
from tfphys.errors import InputError
from tfphys.physics.atoms import images, labeller, sheets

TEST_FRACTION = 0.2
KINDS = ("hexagonal", "porous")
SPACING = 0.05  # Angstrom per pixel: the thesis's 256 pixels over 12.5-13 Angstrom
SHAPES = {"hexagonal": (256, 256), "porous": (512, 512)}
CAPACITY = {"hexagonal": 60, "porous": 4 * 60}  # atoms of the pristine cell


def structures(kind, count, rng):
    """`count` new sheets of `kind`: hexagonal ones are graphene or hBN with equal odds, half
    of them without defects; porous ones carry holes; every sheet is displaced by a Gaussian of
    sigma ~ U[0, 0.1] Angstrom (so no two sheets are the same)."""
    if kind not in KINDS:
        raise InputError(f"unknown sheet kind {kind!r}; choose from {', '.join(KINDS)}")
    made = []
    for _ in range(count):
        if kind == "hexagonal":
            material = ("graphene", "hbn")[int(rng.integers(2))]
            limit = 0 if rng.random() < 0.5 else 3
            sheet = sheets.defected(rng, material, vacancies=(0, limit),
                                    substitutions=(0, limit))
        else:
            sheet = sheets.porous(rng)
        made.append(sheets.displaced(sheet, rng, rng.uniform(0, 0.1)))
    return made


def examples(kind, count, seed=None, method="gfn1", workers=None):
    """{"image" (count, n1, n2) float32, "energy" and "cohesive_energy" (`labeller.cohesive`)
    eV, "area" Angstrom^2, "atoms", "numbers"
    and "positions" (padded), "cell" (count, 3, 3), "temperature" K (electronic, the one that
    converged), "test"} of `count` new labelled sheets of `kind`."""
    made = structures(kind, count, np.random.default_rng(seed))
    with threadpool_limits(1), concurrent.futures.ThreadPoolExecutor(
            workers or os.cpu_count() or 1) as pool:  # tblite releases the GIL
        labels = list(pool.map(lambda atoms: labeller.label(atoms, method), made))
    capacity = CAPACITY[kind]
    numbers, positions = np.zeros((count, capacity), np.int8), np.zeros((count, capacity, 3))
    for k, atoms in enumerate(made):
        numbers[k, :len(atoms)], positions[k, :len(atoms)] = atoms.numbers, atoms.positions
    picture = images.images(made, SHAPES[kind])
    return {"image": picture, "energy": np.array([e for e, _ in labels]),
            "cohesive_energy": np.array([labeller.cohesive(a, e, method)
                                         for a, (e, _) in zip(made, labels)]),
            "temperature": np.array([t for _, t in labels]),
            "area": np.array([images.area(a) for a in made]),
            "atoms": np.array([len(a) for a in made]), "numbers": numbers,
            "positions": positions, "cell": np.stack([np.asarray(a.cell) for a in made]),
            "test": split.is_test(picture, TEST_FRACTION)}
