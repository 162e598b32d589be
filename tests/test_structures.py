"""Structure files to labelled images: extxyz with energies and POSCAR without survive an ASE
round trip, several frames per file, and one-line errors for missing, unreadable or NaN."""

import os

import ase.io
import numpy as np
import tensorflow as tf
from ase.calculators.singlepoint import SinglePointCalculator

from tfphys.data import structures
from tfphys.errors import InputError
from tfphys.physics.atoms import images, sheets


def labelled(sheet, energy):
    sheet.calc = SinglePointCalculator(sheet, energy=energy)
    return sheet


class StructuresTest(tf.test.TestCase):
    def test_round_trips(self):
        d = self.get_temp_dir()
        graphene, hbn = sheets.hexagonal("graphene"), sheets.hexagonal("hbn")
        graphene.rattle(0.05, seed=1)
        ase.io.write(os.path.join(d, "two.extxyz"),
                     [labelled(graphene, -512.25), labelled(hbn, -480.5)])
        ase.io.write(os.path.join(d, "POSCAR"), hbn, format="vasp")
        found = structures.read([os.path.join(d, "two.extxyz"), os.path.join(d, "POSCAR")])
        got = structures.examples(found, (64, 66))
        self.assertAllClose(got["energy"][:2], [-512.25, -480.5])
        self.assertTrue(np.isnan(got["energy"][2]))
        self.assertAllEqual(got["atoms"], [60, 60, 60])
        self.assertAllClose(got["area"], [images.area(graphene), images.area(hbn)] * 1
                            + [images.area(hbn)])
        want = images.images([graphene, hbn, hbn], (64, 66))
        self.assertAllClose(got["image"], want, atol=1e-5)

    def test_refusals(self):
        d = self.get_temp_dir()
        with self.assertRaisesRegex(InputError, "no structure file"):
            structures.read([os.path.join(d, "absent.xyz")])
        with open(os.path.join(d, "notes.extxyz"), "w") as f:
            f.write("not a structure\n")
        with self.assertRaisesRegex(InputError, "ASE cannot read"):
            structures.read([os.path.join(d, "notes.extxyz")])
        with self.assertRaisesRegex(InputError, "structure 0 .* has energy nan"):
            structures.examples([labelled(sheets.hexagonal(), float("nan"))], (8, 8))
