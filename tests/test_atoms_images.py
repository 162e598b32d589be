"""Atoms as images: equal to a brute-force sum over every atom's periodic copies (atoms at the
cell corner, skewed hexagonal cells, windows wider than the cell), invariant under lattice
translations of the sheet, and one-line refusals of what has no periodic image."""

from unittest import mock

import ase
import ase.build
import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.atoms import images, sheets


def brute_force(atoms, shape, gamma=images.GAMMA, copies=3):
    """Every atom and its copies shifted by up to `copies` cells, at every pixel."""
    n1, n2 = shape
    plane = np.asarray(atoms.cell)[:2, :2]
    frac = np.stack(np.meshgrid(np.arange(n1) / n1, np.arange(n2) / n2, indexing="ij"), -1)
    pixels = frac @ plane
    out = np.zeros(shape)
    for z, position in zip(atoms.numbers, atoms.positions[:, :2]):
        for i in range(-copies, copies + 1):
            for j in range(-copies, copies + 1):
                centre = position + i * plane[0] + j * plane[1]
                out += z * np.exp(-np.sum((pixels - centre) ** 2, -1) / (2 * gamma ** 2))
    return out


class ImageTest(tf.test.TestCase):
    def test_equals_the_brute_force_periodic_sum(self):
        square = sheets.hexagonal("hbn", (2, 1))
        square.positions[0, :2] = [0.01, 0.02]  # at the corner: its Gaussian wraps 4 ways
        square.positions[1, :2] = [square.cell[0, 0] - 0.03, 3.0]  # at the right edge
        skewed = ase.build.graphene(size=(1, 1, 1), vacuum=10)  # 2 atoms, 60-degree cell
        narrow = sheets.hexagonal("graphene", (1, 1))  # 2.46 A wide: copies overlap
        for atoms, shape, gamma in ((square, (50, 37), 0.2), (skewed, (31, 29), 0.2),
                                    (narrow, (24, 41), 0.45)):
            self.assertAllClose(images.image(atoms, shape, gamma),
                                brute_force(atoms, shape, gamma), atol=1e-5)

    def test_slabs_are_rows_of_the_image(self):
        sheet = sheets.hexagonal("hbn", (3, 2))
        sheet.positions[0, :2] = [0.01, 1.0]  # its Gaussian wraps onto the last rows
        whole = images.image(sheet, (96, 70))
        for rows in ((0, 5), (90, 96), (40, 41), (0, 96)):
            self.assertAllClose(images.image(sheet, (96, 70), rows=rows),
                                whole[rows[0]:rows[1]], atol=1e-6)
        with self.assertRaisesRegex(InputError, "rows 5:200 are not inside"):
            images.image(sheet, (96, 70), rows=(5, 200))

    def test_chunks_of_atoms_sum_to_the_brute_force_image(self):
        # a sheet of more atoms than one chunk: its windows are summed chunk by chunk, atoms
        # above the slab wrapping onto its first rows
        sheet = sheets.hexagonal("hbn", (3, 2))
        sheet.positions[0, :2] = [0.01, 1.0]
        sheet.positions[5, :2] = [0.02, 7.0]
        exact = brute_force(sheet, (96, 70))
        with mock.patch.object(images, "CHUNK_VALUES", 1400):  # 2 atoms' windows per chunk
            for rows in ((0, 96), (0, 5), (40, 60), (90, 96)):
                self.assertAllClose(images.image(sheet, (96, 70), rows=rows),
                                    exact[rows[0]:rows[1]], atol=1e-5)

    def test_peaks_sit_on_atoms_with_height_z(self):
        sheet = sheets.hexagonal("hbn")
        shape = images.shape_for(sheet, 0.05)
        self.assertEqual(shape, (251, 261))
        picture = images.image(sheet, shape)
        self.assertAllClose(picture.max(), 7.0, atol=0.05)  # N; B peaks at 5
        self.assertAllClose(picture.sum() * images.area(sheet) / picture.size,
                            2 * np.pi * 0.2 ** 2 * sheet.numbers.sum(), rtol=1e-3)

    def test_lattice_translation_moves_the_image(self):
        sheet = sheets.hexagonal("graphene", (2, 2))
        moved = sheet.copy()
        moved.positions[:, 0] += sheet.cell[0, 0] / 4  # a quarter cell: 12 of 48 pixels
        self.assertAllClose(images.image(moved, (48, 40)),
                            np.roll(images.image(sheet, (48, 40)), 12, axis=0), atol=1e-5)

    def test_refusals(self):
        with self.assertRaisesRegex(InputError, "not periodic along x and y"):
            images.image(ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.7]]), (8, 8))
        tilted = sheets.hexagonal()
        tilted.cell[0, 2] = 1.0
        with self.assertRaisesRegex(InputError, "must lie in the xy plane"):
            images.image(tilted, (8, 8))
        heavy = sheets.hexagonal()
        heavy[3].symbol = "Fe"
        with self.assertRaisesRegex(InputError, r"atom 3 \(Fe, Z = 26\) is beyond"):
            images.image(heavy, (8, 8))
        with self.assertRaisesRegex(InputError, "image size"):
            images.image(sheets.hexagonal(), (0, 8))
