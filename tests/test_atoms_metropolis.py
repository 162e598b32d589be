"""Metropolis on atomic positions: with a harmonic energy every coordinate's variance is the
exact 1 / (2 beta k); g(r) of a perfect sheet starts at the bond length and its first shell
integrates to three neighbours; the engine fills a trace like every engine."""

import numpy as np
import tensorflow as tf

from tfphys.physics.atoms import metropolis, sheets


class Harmonic:
    """E = k sum |r - r0|^2: independent oscillators with an exact Boltzmann variance."""

    def __init__(self, origin, k):
        self.origin, self.k = origin.copy(), k

    def reset(self, positions):
        self.positions = positions.copy()
        return self.k * float(np.sum((positions - self.origin) ** 2))

    def trial(self, i, position):
        self._trial = (i, position)
        moved = self.positions.copy()
        moved[i] = position
        return self.k * float(np.sum((moved - self.origin) ** 2))

    def commit(self):
        i, position = self._trial
        self.positions[i] = position


class PositionMetropolisTest(tf.test.TestCase):
    def test_harmonic_variance_is_exact(self):
        sheet = sheets.hexagonal("graphene", (2, 1))
        engine = metropolis.PositionMetropolis(sheet, Harmonic(sheet.positions, 2.0), step=0.8,
                                               seed=1)
        beta = 5.0
        engine.run(np.full(200, beta))  # equilibrate
        samples = []
        for _ in range(3000):
            trace = engine.run([beta])
            samples.append(engine.spins[0] - sheet.positions)
        self.assertBetween(float(trace.acceptance[0, 0]), 0.0, 1.0)
        self.assertTrue(np.isnan(trace.magnetization[0, 0]))
        self.assertAllClose(np.var(np.array(samples)), 1 / (2 * beta * 2.0), rtol=0.05)

    def test_radial_distribution_of_a_perfect_sheet(self):
        sheet = sheets.hexagonal("graphene", (4, 3))
        r, g = metropolis.radial_distribution(sheet.positions[None], sheet.cell, 4.0, 80)
        bond = 2.46 / np.sqrt(3)
        self.assertAllClose(r[np.argmax(g > 0)], bond, atol=0.05)  # the first shell
        # three neighbours at the bond length: the integral of rho g(r) 2 pi r dr is 3
        rho = len(sheet) / abs(np.linalg.det(np.asarray(sheet.cell)[:2, :2]))
        shell = (r > bond - 0.1) & (r < bond + 0.1)
        self.assertAllClose(np.sum(rho * g[shell] * 2 * np.pi * r[shell] * (r[1] - r[0])), 3.0,
                            rtol=0.05)
