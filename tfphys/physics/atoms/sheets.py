"""Hexagonal sheets in rectangular periodic cells: graphene and hexagonal boron nitride as the
thesis's 12.3 x 12.8 Angstrom, 60-atom cell (5 x 3 rectangular 4-atom cells) or any repeat,
with random vacancies and substitutions (`defected`) or every distinct pair of point defects
(`defect_pairs`), and porous graphene (`porous`: random circular holes, atoms left with fewer
than two neighbours removed) and thermal-like random displacements (`displaced`). Every random
generator draws from a numpy Generator; `crystal_key` tells whether two crystalline sheets are
the same structure (their energies are equal)."""

import itertools

import ase
import numpy as np

from tfphys import checks
from tfphys.errors import InputError

LATTICE = {"graphene": (("C", "C"), 2.46), "hbn": (("B", "N"), 2.504)}  # Angstrom
VACUUM = 15.0  # Angstrom of cell along z: the sheet is periodic in-plane only
THESIS_REPEAT = (5, 3)  # 12.3 x 12.8 Angstrom, 60 atoms
POROUS_REPEAT = (10, 6)  # 24.6 x 25.6 Angstrom, 240 atoms before holes (thesis: 35 x 35)
DOPANTS = {"graphene": ("B", "N"), "hbn": ("C",)}


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


def defected(rng, material="graphene", repeat=THESIS_REPEAT, vacancies=(0, 3),
             substitutions=(0, 3)):
    """A sheet with a number of vacancies and of substitutions (a dopant of DOPANTS) each drawn
    uniformly from the inclusive ranges, on distinct random sites."""
    sheet = hexagonal(material, repeat)
    n_vacancies = int(rng.integers(vacancies[0], vacancies[1] + 1))
    n_substitutions = int(rng.integers(substitutions[0], substitutions[1] + 1))
    sites = rng.choice(len(sheet), n_vacancies + n_substitutions, replace=False)
    dopants = [rng.choice(DOPANTS[material]) for _ in sites[n_vacancies:]]
    return with_defects(sheet, sites, [None] * n_vacancies + dopants)


def with_defects(sheet, sites, species):
    """A copy of the sheet with `species[k]` on `sites[k]` (None: that atom removed)."""
    sheet = sheet.copy()
    for site, new in zip(sites, species):
        if new is not None:
            sheet[site].symbol = new
    del sheet[sorted(site for site, new in zip(sites, species) if new is None)]
    return sheet


def _sites(sheet, repeat):
    """(grid, integer sites (n, 2)) of a crystalline sheet of `repeat` on the (2 n1, 6 n2) grid
    of its rectangular cell, where the sublattices sit at (0, 0), (1, 3) and (1, 1), (0, 4)
    modulo (2, 6)."""
    grid = np.array([2 * repeat[0], 6 * repeat[1]])
    scaled = sheet.get_scaled_positions(wrap=False)[:, :2] * grid
    sites = np.round(scaled)
    if len(sheet) and np.abs(scaled - sites).max() > 1e-6:
        raise InputError("a lattice symmetry needs atoms on lattice sites (a crystalline sheet "
                         f"of repeat {tuple(repeat)}); this one is displaced or of another cell")
    return grid, sites.astype(np.int64)


def symmetries(repeat=THESIS_REPEAT):
    """The 8 n1 n2 lattice symmetries of a crystal of `repeat` `crystal_key` and `symmetric`
    take: (mirror x -> -x, half turn about a bond centre, one of the 2 n1 n2 translations)."""
    return list(itertools.product((False, True), (False, True), (0, 1), range(repeat[0]),
                                  range(repeat[1])))


def _moved(sites, grid, symmetry):
    mirror, turn, centred, k, m = symmetry
    moved = sites * [-1 if mirror else 1, 1]
    moved = 1 - moved if turn else moved
    return (moved + [2 * k + centred, 6 * m + 3 * centred]) % grid


def crystal_key(sheet, repeat=THESIS_REPEAT):
    """Bytes equal for two crystalline sheets of `repeat` exactly when one maps onto the other
    by one of the `symmetries` (which leave any energy unchanged), so that a generator can skip
    repeats."""
    grid, sites = _sites(sheet, repeat)
    variants = []
    for symmetry in symmetries(repeat):
        table = np.column_stack([_moved(sites, grid, symmetry), sheet.numbers])
        variants.append(table[np.lexsort(table.T[::-1])].tobytes())
    return min(variants)


def symmetric(sheet, symmetry, repeat=THESIS_REPEAT):
    """The crystal moved by one of `symmetries`: its defects on other sites of the same
    lattice, every atom on a site of the unmoved sheet's lattice, the same energy."""
    grid, sites = _sites(sheet, repeat)
    moved = sheet.copy()
    moved.set_scaled_positions(np.column_stack(
        [_moved(sites, grid, symmetry) / grid, sheet.get_scaled_positions(wrap=False)[:, 2]]))
    return moved


def defect_pairs(material, first, second, repeat=THESIS_REPEAT):
    """[(separation in Angstrom, sheet)] of every distinct crystal (up to `symmetries`) with two
    point defects, nearest first. `first` and `second` are (species, or None for a vacancy;
    the species of the site it takes), e.g. ("C", "B") and ("C", "N"): a donor and an acceptor
    in hBN. Their energies less each defect's alone say how far defects interact."""
    sheet = hexagonal(material, repeat)
    symbols = sheet.get_chemical_symbols()
    hosts = [[k for k, s in enumerate(symbols) if s == host] for _, host in (first, second)]
    if not all(hosts):
        raise InputError(f"a {material} sheet has no {first[1]} or no {second[1]} sites; its "
                         f"species are {sorted(set(symbols))}")
    i = hosts[0][0]  # translations, the mirror and the half turn reach every other choice
    found = {}
    for j in hosts[1]:
        if j != i:
            pair = with_defects(sheet, [i, j], [first[0], second[0]])
            found.setdefault(crystal_key(pair, repeat),
                             (float(sheet.get_distance(i, j, mic=True)), pair))
    return sorted(found.values(), key=lambda found_pair: found_pair[0])


def displaced(sheet, rng, sigma):
    """The sheet with every atom moved by a Gaussian of `sigma` Angstrom per coordinate (a
    thermal-like snapshot)."""
    sheet = sheet.copy()
    sheet.positions += rng.normal(0, sigma, (len(sheet), 3))
    return sheet


def porous(rng, repeat=POROUS_REPEAT, holes=(1, 3), radius=(1.5, 4.0)):
    """Graphene with a number of circular holes (centres uniform in the cell, radii uniform in
    Angstrom, distances periodic); atoms left with fewer than two neighbours go too."""
    sheet = hexagonal("graphene", repeat)
    plane = np.asarray(sheet.cell)[:2, :2]
    gone = np.zeros(len(sheet), bool)
    for _ in range(int(rng.integers(holes[0], holes[1] + 1))):
        step = (sheet.positions[:, :2] - rng.uniform(0, 1, 2) @ plane) @ np.linalg.inv(plane)
        step -= np.round(step)
        gone |= np.linalg.norm(step @ plane, axis=1) < rng.uniform(*radius)
    del sheet[np.where(gone)[0]]
    bond = LATTICE["graphene"][1] / np.sqrt(3)
    while len(sheet):
        d = sheet.get_all_distances(mic=True)
        lonely = ((d > 0) & (d < 1.1 * bond)).sum(1) < 2
        if not lonely.any():
            break
        del sheet[np.where(lonely)[0]]
    if not len(sheet):
        raise InputError("the holes removed every atom; use smaller --radius or fewer holes")
    return sheet
