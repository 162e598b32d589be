"""Zig-zag encoding of honeycomb sheets: the thesis's 24 x 28 from its 35 A cell, the mask on
the hexagon centres (every site outside it is a graphene atom), exact round trips to and from
ase.Atoms (porous and displaced sheets, two species), and one-line refusals."""

import ase
import numpy as np
import tensorflow as tf
from scipy.spatial import cKDTree

from tfphys.errors import InputError
from tfphys.physics.atoms import sheets, zigzag


def nearest(a, b):
    """Largest distance from an atom of `a` to the nearest atom of `b` (periodic in-plane)."""
    box = np.diag(np.asarray(b.cell))[:2]
    distances, _ = cKDTree(np.mod(b.positions[:, :2], box), boxsize=box).query(
        np.mod(a.positions[:, :2], box))
    return distances.max()


class ZigzagTest(tf.test.TestCase):
    def test_the_theses_sheet_is_24_x_28_with_a_third_of_the_sites_masked(self):
        sheet = sheets.hexagonal("graphene", (14, 8))  # 34.4 x 34.1 A, 448 atoms
        encoding = zigzag.encode(sheet)
        self.assertEqual(encoding.shape, (24, 28))
        self.assertAllEqual(encoding > 0, ~zigzag.mask(24, 28))
        self.assertEqual(zigzag.mask(24, 28).sum(), 24 * 28 // 3)
        bond = sheets.LATTICE["graphene"][1] / np.sqrt(3)  # every site 1 bond from 6 sites
        xy = zigzag.positions(24, 28).reshape(-1, 2)
        box = np.diag(np.asarray(sheet.cell))[:2]
        counts = cKDTree(xy, boxsize=box).query_ball_point(xy, bond * 1.01, return_length=True)
        self.assertAllEqual(counts, np.full(len(xy), 7))
        atoms = xy[~zigzag.mask(24, 28).ravel()]  # and each atom has 3 atom neighbours
        counts = cKDTree(atoms, boxsize=box).query_ball_point(atoms, bond * 1.01,
                                                              return_length=True)
        self.assertAllEqual(counts, np.full(len(atoms), 4))

    def test_round_trips_porous_displaced_and_two_species_sheets(self):
        rng = np.random.default_rng(3)
        porous = sheets.porous(rng)
        encoding = zigzag.encode(porous)
        self.assertEqual(encoding.shape, (18, 20))
        self.assertEqual(int((encoding > 0).sum()), len(porous))
        back = zigzag.decode(encoding)
        self.assertLess(nearest(porous, back), 1e-9)
        self.assertAllEqual(zigzag.encode(back), encoding)
        shaken = sheets.displaced(porous, rng, 0.1)
        self.assertAllEqual(zigzag.encode(shaken), encoding)
        hbn = sheets.hexagonal("hbn", (4, 2), a=zigzag.A)
        values = {"B": 0.5, "N": 1.0}
        encoded = zigzag.encode(hbn, values)
        self.assertEqual(sorted(np.unique(encoded)), [-1.0, 0.5, 1.0])
        again = zigzag.decode(encoded, values)
        self.assertEqual(sorted(again.get_chemical_symbols()), sorted(hbn.get_chemical_symbols()))
        self.assertLess(nearest(hbn, again), 1e-9)
        generated = np.where(encoding > 0, 0.3, -0.8)  # continuous generator output
        self.assertEqual(len(zigzag.decode(generated)), len(porous))

    def test_refusals_are_one_line(self):
        for shape in ((24, 27), (25, 28), (2, 4)):
            with self.assertRaisesRegex(InputError, "breaks the zig-zag period"):
                zigzag.mask(*shape)
        flat = sheets.hexagonal("graphene", (3, 2))
        for atoms, message in (
                (ase.Atoms(flat, pbc=False), "periodic along x and y"),
                (ase.Atoms(flat, cell=[7.0, 8.52, 15.0]), "not a whole number"),
                (sheets.hexagonal("hbn", (3, 2), a=zigzag.A), r"no encoding value for \[.B"),
                (flat + ase.Atoms("C", [(0.0, 1.42, 7.5)]), "hexagon centre"),
                (flat + ase.Atoms("C", [(0.41, 0.71, 7.5)]), "half a bond"),
                (flat + ase.Atoms("C", [(0.1, 0.0, 7.5)]), "two atoms share")):
            with self.assertRaisesRegex(InputError, message):
                zigzag.encode(atoms)
        with self.assertRaisesRegex(InputError, "finite"):
            zigzag.decode(np.full((6, 4), np.nan))
