"""Hexagonal sheets: the thesis's 60-atom cell, three nearest neighbours at a / sqrt(3) for
every atom, of the other species in hBN, periodic in-plane only."""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.atoms import sheets


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
