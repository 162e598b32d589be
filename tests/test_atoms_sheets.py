"""Hexagonal sheets: the thesis's 60-atom cell, three nearest neighbours at a / sqrt(3) for
every atom, of the other species in hBN, periodic in-plane only; a crystal's key is the same
for its images under lattice symmetries, in Angstrom, and differs for another structure;
symmetric copies stay on the lattice with the labeller's energy unchanged."""

import itertools

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.atoms import labeller, sheets


class SheetTest(tf.test.TestCase):
    def test_neighbours_and_cell(self):
        for material, a in (("graphene", 2.46), ("hbn", 2.504)):
            sheet = sheets.hexagonal(material)
            self.assertLen(sheet, 60)
            self.assertAllClose(sheet.cell.lengths()[:2], [5 * a, 3 * a * np.sqrt(3)])
            self.assertEqual(sheet.pbc.tolist(), [True, True, False])
            d = sheet.get_all_distances(mic=True)
            np.fill_diagonal(d, np.inf)
            near = np.abs(d - a / np.sqrt(3)) < 1e-6
            self.assertAllEqual(near.sum(1), np.full(60, 3))
            self.assertAllClose(d.min(), a / np.sqrt(3))
            symbols = np.array(sheet.get_chemical_symbols())
            if material == "hbn":
                self.assertTrue(all(symbols[i] != symbols[j] for i, j in zip(*np.where(near))))
        with self.assertRaisesRegex(InputError, "unknown sheet material 'mos2'"):
            sheets.hexagonal("mos2")

    def test_defects_holes_and_displacements(self):
        rng = np.random.default_rng(3)
        for _ in range(5):
            sheet = sheets.defected(rng, "graphene", vacancies=(2, 2), substitutions=(1, 1))
            symbols = sheet.get_chemical_symbols()
            self.assertLen(sheet, 58)
            self.assertEqual(sum(s in ("B", "N") for s in symbols), 1)
        pristine = sheets.hexagonal("graphene", sheets.POROUS_REPEAT)
        bond = 2.46 / np.sqrt(3)
        for _ in range(3):
            sheet = sheets.porous(rng, holes=(1, 1), radius=(3.0, 3.0))
            self.assertBetween(len(sheet), 200, len(pristine) - 8)  # a 3 A hole takes >= 8
            d = sheet.get_all_distances(mic=True)
            self.assertTrue(np.all(((d > 0) & (d < 1.1 * bond)).sum(1) >= 2))
        moved = sheets.displaced(pristine, rng, 0.05)
        self.assertAllClose(np.std(moved.positions - pristine.positions), 0.05, rtol=0.1)
        with self.assertRaisesRegex(InputError, "removed every atom"):
            sheets.porous(rng, repeat=(1, 1), radius=(10, 10))

    def test_crystal_key_names_a_structure_up_to_symmetry(self):
        rng = np.random.default_rng(4)
        for material, a in (("graphene", 2.46), ("hbn", 2.504)):
            sheet = sheets.defected(rng, material, vacancies=(2, 2), substitutions=(2, 2))
            key = sheets.crystal_key(sheet)
            centre = np.array([a / 4, a * np.sqrt(3) / 12])  # the bond from the atom at 0
            moves = {"translation": lambda p: p + [1.5 * a, 1.5 * np.sqrt(3) * a],
                     "mirror": lambda p: p * [-1, 1], "half turn": lambda p: 2 * centre - p}
            for name, move in moves.items():
                image = sheet.copy()
                image.positions[:, :2] = move(image.positions[:, :2])
                image.wrap()
                self.assertEqual(sheets.crystal_key(image), key, name)
            self.assertEqual(sheets.crystal_key(sheet[rng.permutation(len(sheet))]), key)
        pristine = sheets.hexagonal("graphene")
        d = pristine.get_all_distances(mic=True)[0]
        pair = {name: pristine.copy() for name in ("near", "far")}
        del pair["near"][[0, int(np.argsort(d)[1])]]  # a bond's two atoms
        del pair["far"][[0, int(np.argmax(d))]]
        self.assertNotEqual(sheets.crystal_key(pair["near"]), sheets.crystal_key(pair["far"]))
        with self.assertRaisesRegex(InputError, "needs atoms on lattice sites"):
            sheets.symmetric(sheets.displaced(pristine, rng, 0.05), sheets.symmetries()[3])
        with self.assertRaisesRegex(InputError, "needs atoms on lattice sites"):
            sheets.crystal_key(sheets.displaced(pristine, rng, 0.05))

    def test_symmetric_copies_keep_the_lattice_and_the_energy(self):
        rng = np.random.default_rng(6)
        for material in ("graphene", "hbn"):
            sheet = sheets.defected(rng, material, vacancies=(2, 2), substitutions=(2, 2))
            lattice = sheets.hexagonal(material).positions
            energy = labeller.label(sheet, "gfn1")[0]
            for symmetry in [sheets.symmetries()[k] for k in (7, 33, 64, 119)]:
                copy = sheets.symmetric(sheet, symmetry)
                distance = np.linalg.norm(copy.positions[:, None] - lattice[None], axis=-1)
                self.assertLess(distance.min(axis=1).max(), 1e-9)  # on the same sites
                self.assertFalse(np.allclose(copy.positions, sheet.positions))
                self.assertEqual(sheets.crystal_key(copy), sheets.crystal_key(sheet))
                self.assertAllClose(labeller.label(copy, "gfn1")[0], energy, atol=1e-4)
        self.assertLen(sheets.symmetries(), 120)

    def test_defect_pairs_are_every_pair_once(self):
        """Against orbits of all site pairs under the 120 cell symmetries built here as
        permutations of the sites from moves in Angstrom (translations, mirror, half turn)."""
        for material, first, second in (("hbn", ("C", "B"), ("C", "N")),
                                        ("hbn", ("C", "B"), ("C", "B")),
                                        ("graphene", ("B", "C"), ("N", "C")),
                                        ("graphene", (None, "C"), (None, "C"))):
            pristine = sheets.hexagonal(material)
            group = _site_permutations(pristine)
            self.assertLen(group, 120)
            symbols = pristine.get_chemical_symbols()
            found = {}
            for i, j in itertools.permutations(range(len(pristine)), 2):
                if (symbols[i], symbols[j]) == (first[1], second[1]):
                    table = np.array(symbols, dtype=object)
                    table[[i, j]] = [first[0], second[0]]
                    found.setdefault(tuple(table), len(found))
            orbits = {min(found.get(tuple(np.array(s)[np.argsort(p)]), len(found))
                          for p in group) for s in found}
            pairs = sheets.defect_pairs(material, first, second)
            self.assertLen(pairs, len(orbits), material)
            separations = [d for d, _ in pairs]
            hosts = [np.array(symbols) == host for _, host in (first, second)]
            distance = pristine.get_all_distances(mic=True)[np.ix_(*hosts)]
            self.assertAllClose(separations[0], distance[distance > 0].min())
            self.assertEqual(separations, sorted(separations))
            for _, sheet in pairs:
                self.assertLen(sheet, 60 - 2 * (first[0] is None))
        with self.assertRaisesRegex(InputError, "has no C or no N sites"):
            sheets.defect_pairs("hbn", ("B", "C"), ("C", "N"))


def _site_permutations(sheet):
    """Every lattice symmetry of the periodic sheet as a permutation of its sites (site k goes
    to p[k]), closed from moves in Angstrom: two translations, the mirror x -> -x and the half
    turn about the centre of the bond from the atom at the origin."""
    a = sheet.cell[0, 0] / 5
    centre = np.array([a / 4, a * np.sqrt(3) / 12])
    moves = (lambda p: p + [a, 0], lambda p: p + [a / 2, a * np.sqrt(3) / 2],
             lambda p: p * [-1, 1], lambda p: 2 * centre - p)
    xy = sheet.positions[:, :2]
    span = np.diag(sheet.cell)[:2]

    def permutation(move):
        moved = move(xy)
        gap = (moved[:, None] - xy[None] + span / 2) % span - span / 2
        distance = np.linalg.norm(gap, axis=-1)
        assert np.all(distance.min(1) < 1e-6)
        return tuple(distance.argmin(1))

    generators = [permutation(m) for m in moves]
    group, frontier = {tuple(range(len(sheet)))}, [tuple(range(len(sheet)))]
    while frontier:
        p = frontier.pop()
        for g in generators:
            composed = tuple(g[k] for k in p)
            if composed not in group:
                group.add(composed)
                frontier.append(composed)
    return [np.array(p) for p in group]
