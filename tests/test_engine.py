"""The one engine interface: every engine runs through `run(betas) -> Trace` and `anneal`,
and ends in states whose energy, recomputed from scratch with the exact Hamiltonian, is the
energy the engine tracked; annealing a 4x4 ferromagnet finds its ground state E = -2N."""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics import annealing
from tfphys.physics.spins import couplings, ising, potts, window
from tfphys.physics.engine import Engine, Trace
from tfphys.physics.spins.metropolis import Metropolis
from tfphys.physics.spins.operator_mc import OperatorMetropolis


def ising_table():
    p = window.patterns(1)
    return window.WindowEnergy(-(p[:, 1, 1] * (p[:, 1, 2] + p[:, 2, 1])).astype(float), 1)


ENGINES = {
    "metropolis": lambda: Metropolis(couplings.ising(4), 8, seed=1),
    "metropolis_replicas": lambda: Metropolis(couplings.ising(4), 8, seed=1, order="replicas"),
    "window": lambda: window.WindowMetropolis(ising_table(), 4, 8, seed=2),
    "operator": lambda: OperatorMetropolis(ising.energy, 4, 8, seed=3),
}


class EngineTest(tf.test.TestCase):
    def test_every_ising_engine_anneals_to_the_ground_state_through_anneal(self):
        for name, make in ENGINES.items():
            mc = make()
            self.assertIsInstance(mc, Engine)
            self.assertEqual((mc.n, mc.spins.shape), (16, (8, 4, 4)))
            result = annealing.anneal(mc, annealing.linear(0.1, 4.0, 300))
            self.assertIsInstance(result.trace, Trace)
            self.assertEqual(result.trace.energy.shape, (8, 300), name)
            self.assertAllClose(result.energy, ising.energy(result.spins), msg=name)
            self.assertAllClose(result.trace.energy[:, -1], result.energy, msg=name)
            self.assertAllEqual(result.trace.magnetization[:, -1],
                                result.spins.sum(axis=(1, 2)), msg=name)
            self.assertEqual(result.min_energy.min(), -32, name)  # all 32 bonds satisfied

    def test_controllers_drive_any_engine_and_negative_beta_is_ignored(self):
        for name, make in ENGINES.items():
            mc = make()
            seen = []

            def controller(step, beta, engine):
                seen.append(engine.energy.shape)
                return -10.0 if step == 1 else 0.5  # step 1 would make beta negative

            result = annealing.anneal(mc, controller=controller, beta0=0.2, n_steps=4,
                                      sweeps_per_step=5)
            self.assertEqual(seen, [(8,)] * 4, name)
            self.assertAllClose(result.betas[-1], 0.2 + 3 * 0.5, msg=name)
            self.assertAllClose(result.betas[5:10], np.full(5, 0.7), msg=name)  # kept at 0.7

    def test_potts_angles_anneal_towards_their_bound(self):
        mc = potts.PottsMetropolis(4, n_replicas=4, seed=5)
        result = annealing.anneal(mc, annealing.geometric(0.1, 50.0, 1500))
        self.assertAllClose(result.energy, potts.energy(result.spins), atol=1e-9)
        self.assertLess(result.min_energy.min() / 16, -1.9)  # E/N >= -2: neighbours pi apart
        self.assertGreaterEqual(result.min_energy.min() / 16, -2.0)
        self.assertTrue(np.all(np.isnan(result.trace.magnetization)))

    def test_run_checks_temperatures_and_allows_zero_sweeps(self):
        for make in ENGINES.values():
            mc = make()
            before = mc.spins.copy()
            trace = mc.run([])
            self.assertEqual(trace.energy.shape, (8, 0))
            self.assertAllEqual(mc.spins, before)
            for bad in ([-1.0], [np.nan], [[1.0]]):
                with self.assertRaisesRegex(InputError, "inverse temperatures"):
                    mc.run(bad)

    def test_an_engine_must_implement_its_sweeps(self):
        class Half(Engine):
            _spins, _energy = np.ones((1, 2)), np.zeros(1)

        with self.assertRaises(TypeError):
            Half()
