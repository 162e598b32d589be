"""The electronic-structure labeller (tblite GFN1/GFN2-xTB behind ASE): energies invariant
under rigid translations and atom reordering, a strained bond costs energy, provenance names
the method and code, unknown methods are refused in one line; MKL's LAPACK gives the energies
of tblite's bundled reference LAPACK."""

import os
import platform
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.atoms import labeller, sheets


class LabellerTest(tf.test.TestCase):
    def test_gfn1_symmetries_and_strain(self):
        cell = sheets.hexagonal("graphene", (2, 1))
        energy, temperature = labeller.label(cell, "gfn1")
        self.assertEqual(temperature, labeller.TEMPERATURES[0])
        moved = cell.copy()
        moved.positions += [0.37, -1.1, 0.2]
        reordered = cell[[3, 1, 7, 0, 2, 6, 5, 4]]
        for other in (moved, reordered):
            self.assertAllClose(labeller.label(other, "gfn1")[0], energy, atol=1e-6)
        strained = sheets.hexagonal("graphene", (2, 1), a=2.46 * 1.05)
        self.assertGreater(labeller.label(strained, "gfn1")[0], energy + 0.5)  # eV

    def test_cohesive_energy_is_the_binding(self):
        sheet = sheets.hexagonal("graphene", (2, 1))
        energy, _ = labeller.label(sheet, "gfn1")
        per_atom = labeller.cohesive(sheet, energy, "gfn1") / len(sheet)
        self.assertBetween(per_atom, -12.0, -6.0)  # eV per atom; experiment: -7.9
        self.assertAllClose(labeller.cohesive(sheet[:1], labeller.atom_energy("C", "gfn1"),
                                              "gfn1"), 0.0)

    def test_gfn2_and_provenance(self):
        energy, _ = labeller.label(sheets.hexagonal("hbn", (1, 1)), "gfn2")
        self.assertTrue(np.isfinite(energy))
        facts = labeller.provenance("gfn2")
        self.assertEqual(facts["method"], "GFN2-xTB")
        self.assertEqual(labeller.key(facts["method"]), "gfn2")
        self.assertIsNone(labeller.key("PBE"))
        self.assertRegex(facts["code"], r"^tblite \d")
        with self.assertRaisesRegex(InputError, "unknown calculator 'dft'"):
            labeller.calculator("dft")

    def test_mkl_lapack_gives_the_bundled_lapack_energies(self):
        if platform.machine() == "x86_64" and sys.platform == "linux":
            self.assertRegex(labeller.LAPACK, r"^MKL \d")  # installed with tfphys here
        self.assertEqual(labeller.provenance("gfn1")["lapack"], labeller.LAPACK)
        cell = sheets.hexagonal("hbn", (2, 1))
        cell.positions[0] += [0.05, -0.03, 0.0]
        code = ("from tfphys.physics.atoms import labeller, sheets; "
                "cell = sheets.hexagonal('hbn', (2, 1)); cell.positions[0] += [0.05, -0.03, 0]; "
                "print(labeller.LAPACK); print(repr(labeller.label(cell, 'gfn1')[0]))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "TFPHYS_LAPACK": "bundled"}, check=True)
        lapack, energy = out.stdout.strip().splitlines()[-2:]
        self.assertEqual(lapack, "reference LAPACK bundled with tblite")
        self.assertAllClose(float(energy), labeller.label(cell, "gfn1")[0], rtol=0, atol=1e-8)
