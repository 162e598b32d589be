"""Labelled sheet datasets for the atomistic EDNN: hexagonal sheets (graphene and hBN in the
thesis's 60-atom cell, with and without vacancies and substitutions) or porous graphene, each
with its electronic-structure energy (`physics.atoms.labeller`), its image, the structure
itself (padded to the pristine cell's atom count, atomic number 0 = no atom), the SHA3
train/test flag of its image (20 %) and, for porous graphene, its zig-zag encoding
(`physics.atoms.zigzag`: what the sheet RUGAN generates).

`examples(kind, count, seed, method)` makes one shard's worth; bin/generate_sheets seeds shard
k with (seed, k) and passes the crystals shards 0..k-1 drew (redrawn, not relabelled), so a
resumed or grown dataset is remade identically and holds no structure twice.
"""

import ase
import numpy as np

from tfphys import checks
from tfphys.data import split
from tfphys.errors import InputError
from tfphys.physics.atoms import images, labeller, sheets, zigzag

TEST_FRACTION = 0.2
KINDS = ("hexagonal", "porous")
SPACING = 0.05  # Angstrom per pixel: the thesis's 256 pixels over 12.5-13 Angstrom
SHAPES = {"hexagonal": (256, 256), "porous": (512, 512)}
CAPACITY = {"hexagonal": 60, "porous": 4 * 60}  # atoms of the pristine cell


def distinct(kind, displacement):
    """Whether `structures` draws repeated structures again: crystalline hexagonal sheets."""
    return kind == "hexagonal" and not displacement


def structures(kind, count, rng, displacement=0.1, seen=None):
    """`count` new sheets of `kind`: hexagonal ones are graphene or hBN with equal odds and up
    to 3 vacancies and 3 substitutions (half of them pristine when displaced); porous ones
    carry holes. Every sheet is displaced by a Gaussian of sigma ~ U[0, `displacement`]
    Angstrom (so no two sheets are the same); `displacement` 0 keeps the crystal positions,
    as the thesis's hexagonal dataset (crystalline and defect sheets), and then draws again
    any crystal whose `crystal_key` is in `seen` (a set it adds to): repeats would cost
    labels and put copies of one structure on both sides of the split."""
    if kind not in KINDS:
        raise InputError(f"unknown sheet kind {kind!r}; choose from {', '.join(KINDS)}")
    displacement = checks.real("displacement", displacement, low=0)
    seen = set() if seen is None else seen
    made, repeats = [], 0
    while len(made) < count:
        if kind == "hexagonal":
            material = ("graphene", "hbn")[int(rng.integers(2))]
            pristine = rng.random() < 0.5 and displacement > 0  # else crystals would repeat
            limit = 0 if pristine else 3
            sheet = sheets.defected(rng, material, vacancies=(0, limit),
                                    substitutions=(0, limit))
            if distinct(kind, displacement):
                key = sheets.crystal_key(sheet)
                if key in seen:
                    repeats += 1
                    if repeats > 100 * count:
                        raise InputError("hardly any new crystal is left to draw; ask for "
                                         "fewer sheets or displaced ones (--displacement)")
                    continue
                seen.add(key)
        else:
            sheet = sheets.porous(rng)
        made.append(sheets.displaced(sheet, rng, rng.uniform(0, displacement))
                    if displacement else sheet)
    return made


def examples(kind, count, seed=None, method="gfn1", workers=None, displacement=0.1, seen=None,
             energy_model=None, keep_images=True):
    """{"image" (count, n1, n2) float32, "energy" and "cohesive_energy" (`labeller.cohesive`)
    eV, "area" Angstrom^2, "atoms", "numbers" and "positions" (padded), "cell" (count, 3, 3),
    "temperature" K (electronic, the one that converged), "test", porous only "encoding"
    (count, 18, 20)} of `count` new labelled sheets of `kind` (`structures`, `seen` too).
    `energy_model` (images -> cohesive energies in eV, a fitted model of `method`'s) labels
    instead of the electronic structure: "energy" is its cohesive energy plus `method`'s
    free atoms, "temperature" NaN. `keep_images` False leaves "image" out (the test flag is
    still drawn from it)."""
    made = structures(kind, count, np.random.default_rng(seed), displacement, seen)
    picture = images.images(made, SHAPES[kind])
    if energy_model is None:
        energy, temperature = np.array(labeller.label_many(made, method, workers)).T
        cohesive = [labeller.cohesive(a, e, method) for a, e in zip(made, energy)]
    else:
        cohesive, temperature = np.asarray(energy_model(picture), float), np.full(count, np.nan)
        energy = cohesive + [labeller.free_atoms(a, method) for a in made]
    capacity = CAPACITY[kind]
    numbers, positions = np.zeros((count, capacity), np.int8), np.zeros((count, capacity, 3))
    for k, atoms in enumerate(made):
        numbers[k, :len(atoms)], positions[k, :len(atoms)] = atoms.numbers, atoms.positions
    encodings = {"encoding": np.stack([zigzag.encode(a) for a in made])} if kind == "porous" else {}
    kept = {"image": picture} if keep_images else {}
    return {**encodings, **kept, "energy": np.asarray(energy, float),
            "cohesive_energy": np.asarray(cohesive, float), "temperature": temperature,
            "area": np.array([images.area(a) for a in made]),
            "atoms": np.array([len(a) for a in made]), "numbers": numbers,
            "positions": positions, "cell": np.stack([np.asarray(a.cell) for a in made]),
            "test": split.is_test(picture, TEST_FRACTION)}


def stored_sheet(fields, k):
    """Sheet k of stored fields ("atoms", "numbers", "positions", "cell": a shard, or those
    fields of a whole dataset) as an ase.Atoms, its padding dropped."""
    n = int(fields["atoms"][k])
    return ase.Atoms(fields["numbers"][k, :n], fields["positions"][k, :n],
                     cell=fields["cell"][k], pbc=[True, True, False])


def with_symmetric_copies(shard, copies, rng):
    """A shard of crystalline sheets (the fields `examples` writes) with, for every training
    sheet, `copies` images of distinct non-trivial lattice symmetries of it
    (`physics.atoms.sheets.symmetric`: the defects on other sites, the same energy, no new
    label), rows in random order; test sheets stay as they are, without copies."""
    if "encoding" in shard:
        raise InputError("symmetric copies are for hexagonal crystals, not porous sheets")
    shape, symmetries = shard["image"].shape[1:], sheets.symmetries()
    rows, made = [], []
    for k in range(len(shard["image"])):
        rows.append((k, None))
        if shard["test"][k]:
            continue
        atoms = stored_sheet(shard, k)
        for choice in rng.choice(np.arange(1, len(symmetries)), copies, replace=False):
            made.append(sheets.symmetric(atoms, symmetries[choice]))
            rows.append((k, len(made) - 1))
    pictures = images.images(made, shape) if made else None
    out = {name: [] for name in shard}
    for k, copy in (rows[i] for i in rng.permutation(len(rows))):
        for name, values in shard.items():
            out[name].append(values[k])
        if copy is not None:
            atoms = made[copy]
            out["image"][-1] = pictures[copy]
            out["positions"][-1] = np.zeros_like(shard["positions"][k])
            out["positions"][-1][:len(atoms)] = atoms.positions  # the same atoms, moved
    return {name: np.stack(values).astype(shard[name].dtype) for name, values in out.items()}
