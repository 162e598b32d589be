"""The four potential classes of the thesis's Appendix B: ranges of every parameter (Tables
I-III), seeding, the formulas at grid points, infinite-well energies uniform on [0, 0.4] Ha and
random potentials at 20 Ha on the whole border."""

import numpy as np
import scipy.stats
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.schrodinger import potentials


class PotentialsTest(tf.test.TestCase):
    def test_seeding_and_shapes(self):
        for kind in potentials.KINDS:
            V, params = potentials.generate(kind, 3, seed=4)
            again, _ = potentials.generate(kind, 3, seed=4)
            other, _ = potentials.generate(kind, 3, seed=5)
            self.assertEqual(V.shape, (3, 256, 256))
            self.assertAllEqual(V, again)
            self.assertNotAllClose(V, other)
            self.assertTrue(all(p.shape == (3,) for p in params.values()))
        with self.assertRaisesRegex(InputError, "unknown potential kind 'box'"):
            potentials.generate("box", 1)

    def test_sho_table_one_and_formula(self):
        V, p = potentials.sho(500, seed=0)
        for name, (low, high) in {"kx": (0, 0.16), "ky": (0, 0.16), "cx": (-8, 8),
                                  "cy": (-8, 8)}.items():
            self.assertTrue(np.all((p[name] >= low) & (p[name] <= high)), name)
        x, _ = potentials.axis()
        i, j = 40, 200
        expect = 0.5 * (p["kx"][0] * (x[i] - p["cx"][0]) ** 2
                        + p["ky"][0] * (x[j] - p["cy"][0]) ** 2)
        self.assertAllClose(V[0, i, j], min(expect, 20.0))
        self.assertEqual(V.max(), 20.0)

    def test_infinite_well_energies_are_uniform_and_match_the_box(self):
        V, p = potentials.infinite_well(2000, seed=1, n=32)
        self.assertGreater(scipy.stats.kstest(p["energy"], "uniform", args=(
            potentials.LOWEST_BOX, 0.4 - potentials.LOWEST_BOX)).pvalue, 0.01)
        self.assertAllClose(np.pi ** 2 / 2 * (1 / p["Lx"] ** 2 + 1 / p["Ly"] ** 2), p["energy"])
        # the side drawn in [4, 15] is x or y with probability 1/2: both leave it equally often
        outside = [np.mean((p[side] < 4) | (p[side] > 15)) for side in ("Lx", "Ly")]
        self.assertGreater(min(outside), 0.05)
        self.assertLess(abs(outside[0] - outside[1]), 0.04)
        self.assertAllEqual(np.unique(V), [0.0, 20.0])
        x, _ = potentials.axis(32)
        b = lambda a: a[:, None, None]  # noqa: E731
        inside = ((np.abs(x[None, :, None] - b(p["cx"])) < b(p["Lx"]) / 2 - 1e-9)
                  & (np.abs(x[None, None, :] - b(p["cy"])) < b(p["Ly"]) / 2 - 1e-9))
        outside = ((np.abs(x[None, :, None] - b(p["cx"])) > b(p["Lx"]) / 2 + 1e-9)
                   | (np.abs(x[None, None, :] - b(p["cy"])) > b(p["Ly"]) / 2 + 1e-9))
        self.assertTrue(np.all(V[inside] == 0.0))
        self.assertTrue(np.all(V[outside] == 20.0))

    def test_double_gaussian_table_two(self):
        V, p = potentials.double_gaussian(300, seed=2)
        for name, (low, high) in {"A1": (2, 4), "A2": (2, 4), "cx1": (-8, 8), "cy2": (-8, 8),
                                  "kx1": (1.6, 8), "ky2": (1.6, 8)}.items():
            self.assertTrue(np.all((p[name] >= low) & (p[name] <= high)), name)
        self.assertAllClose(V.min(axis=(1, 2)), np.zeros(300))  # shifted: min V = 0
        self.assertTrue(np.all((p["shift"] > 0) & (p["shift"] <= p["A1"] + p["A2"])))
        x, _ = potentials.axis()
        i, j = 100, 150
        expect = -sum(p[f"A{w}"][0] * np.exp(-((x[i] - p[f"cx{w}"][0]) / p[f"kx{w}"][0]) ** 2
                                              - ((x[j] - p[f"cy{w}"][0]) / p[f"ky{w}"][0]) ** 2)
                      for w in (1, 2))
        self.assertAllClose(V[0, i, j], expect + p["shift"][0])

    def test_random_potentials_reach_twenty_on_the_border(self):
        V, p = potentials.random(12, seed=3)
        border = np.concatenate([V[:, 0], V[:, -1], V[:, :, 0], V[:, :, -1]], axis=1)
        self.assertAllClose(border, np.full_like(border, 20.0))
        self.assertAllClose(V.min(axis=(1, 2)), np.zeros(12), atol=1e-12)  # the deepest point
        self.assertTrue(np.all((V >= 0) & (V <= 20)))
        self.assertTrue(np.all(np.isin(p["d"], [0.1, 0.5, 1.0, 2.0])))
        for name, (low, high) in {"sigma1": (6, 10), "k": (2, 7), "R": (80, 180),
                                  "sigma2": (10, 16)}.items():
            self.assertTrue(np.all((p[name] >= low) & (p[name] <= high)), name)
        self.assertGreater(np.mean(V < 19.9), 0.02)  # a well, not a flat wall
