"""n99 and its interval against hand values, success detection, and the SA baselines on
instances whose ground states are proven (4x4: checked by enumeration in test_ground_states)."""

import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.physics.spins import couplings, ground_states
from tfphys.rl import evaluation


class N99Test(tf.test.TestCase):
    def test_hand_values(self):
        self.assertAllClose(evaluation.n99(0.5), np.log(0.01) / np.log(0.5) * 0.5)  # 3.3219
        self.assertAllClose(evaluation.n99(0.5), 3.32193, atol=1e-5)
        self.assertAllClose(evaluation.n99(0.99), 0.01)
        self.assertEqual(evaluation.n99(1.0), 0.0)
        self.assertEqual(evaluation.n99(0.0), np.inf)

    def test_clopper_pearson_edges_and_interval_order(self):
        low, high = evaluation.clopper_pearson(0, 10)
        self.assertEqual(low, 0.0)
        self.assertAllClose(high, 1 - 0.025 ** (1 / 10))  # closed form at k = 0
        low, high = evaluation.clopper_pearson(10, 10)
        self.assertAllClose(low, 0.025 ** (1 / 10))
        self.assertEqual(high, 1.0)
        result = evaluation.Score(30, 100)
        fast, slow = result.n99_interval
        self.assertLess(fast, result.n99)
        self.assertLess(result.n99, slow)

    def test_success_means_any_replica_at_the_ground_energy(self):
        self.assertTrue(evaluation.succeeded([-3.0, -10.0], -10.0))
        self.assertTrue(evaluation.succeeded([-9.99999999], -10.0))
        self.assertFalse(evaluation.succeeded([-9.9, -5.0], -10.0))


class BaselinesTest(tf.test.TestCase):
    def test_baselines_find_proven_4x4_ground_states(self):
        right, down = ground_states.random_instances(4, 3, seed=9)
        instances = [(ground_states.couplings(r, d), ground_states.solve(r, d)[0])
                     for r, d in zip(right, down)]
        model, ground = instances[0]
        # dimod's model has our energies
        spins = np.random.default_rng(0).choice([-1, 1], size=(5, 16))
        self.assertAllClose(evaluation.bqm(model).energies(spins), model.energy(spins.reshape(5, 4, 4)))
        self.assertAllClose(evaluation.bqm(couplings.weak_strong_clusters()).energies(
            np.ones((1, 16))), couplings.weak_strong_clusters().energy(np.ones((1, 16))))
        linear = evaluation.score(lambda m, s: evaluation.linear_sa(m, 0.1, 3.0, 500, 16, s),
                                  instances, runs=3)
        dwave = evaluation.score(lambda m, s: evaluation.dwave_sa(m, 500, 16, s), instances, 3)
        self.assertEqual((linear.p, dwave.p), (1.0, 1.0))  # 16 spins, 500 sweeps: always
        # a schedule frozen at the start (beta = 20 from random spins) misses some
        frozen = evaluation.score(lambda m, s: evaluation.linear_sa(m, 20.0, 20.0, 5, 1, s),
                                  instances, runs=5)
        self.assertLess(frozen.p, 1.0)
        (beta_i, beta_f), best = evaluation.best_linear(instances, 2, grid_i=(0.1, 20.0),
                                                        grid_f=(20.0,), sweeps=50, replicas=4)
        self.assertEqual(beta_i, 0.1)
        self.assertGreaterEqual(best.p, frozen.p)


class ScriptTest(tf.test.TestCase):
    def test_evaluate_cool_prints_p_and_n99_per_baseline(self):
        right, down = ground_states.random_instances(4, 2, seed=1)
        solved = [ground_states.solve(r, d) for r, d in zip(right, down)]
        path = os.path.join(self.get_temp_dir(), "ea4.npz")
        ground_states.save(path, right, down, [e for e, _ in solved], [s for _, s in solved])
        proc = testing.run_script("evaluate_cool", f"--instances={path}", "--runs=2",
                                  "--sweeps=200")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("4x4, 2 instances x 2 runs, linear SA beta", proc.stdout)
        self.assertIn("dwave-samplers SA (default geometric schedule): {\"p\": 1.0", proc.stdout)
