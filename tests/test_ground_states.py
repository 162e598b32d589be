"""Proven EA ground states against enumeration of every 4x4 configuration, the instance file
format (bond directions, checks naming the file and the index) and bin/ground_states."""

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.physics.spins import ground_states, ising


class SolveTest(tf.test.TestCase):
    def test_ground_states_equal_enumeration_at_4x4(self):
        right, down = ground_states.random_instances(4, 4, seed=3)
        every = ising.all_configurations(4)
        for k in range(4):
            energy, state = ground_states.solve(right[k], down[k])
            energies = ground_states.couplings(right[k], down[k]).energy(every)
            self.assertAllClose(energy, energies.min(), rtol=1e-12)
            self.assertEqual(state[0, 0], 1)  # the global flip is fixed by spin 0
            self.assertAllClose(ground_states.couplings(right[k], down[k]).energy(state[None]),
                                [energies.min()])

    def test_bond_directions_follow_the_file_format(self):
        right, down = np.zeros((4, 4)), np.zeros((4, 4))
        right[1, 3] = 1.5  # couples (1, 3)-(1, 0) across the edge
        down[3, 2] = -0.5  # couples (3, 2)-(0, 2)
        s = np.random.default_rng(0).choice([-1, 1], size=(10, 4, 4))
        expected = -1.5 * s[:, 1, 3] * s[:, 1, 0] + 0.5 * s[:, 3, 2] * s[:, 0, 2]
        self.assertAllClose(ground_states.couplings(right, down).energy(s), expected)
        energy, _ = ground_states.solve(right, down)
        self.assertAllClose(energy, -2.0)  # both bonds satisfied


class FileTest(tf.test.TestCase):
    def test_round_trip_and_named_problems(self):
        d = self.get_temp_dir()
        right, down = ground_states.random_instances(4, 3, seed=1)
        solved = [ground_states.solve(r, w) for r, w in zip(right, down)]
        energies = np.array([e for e, _ in solved])
        states = np.array([s for _, s in solved])
        ground_states.save(f"{d}/ok.npz", right, down, energies, states)
        loaded = ground_states.load(f"{d}/ok.npz")
        self.assertAllEqual(loaded["ground_state"], states)
        np.savez(f"{d}/couplings_only.npz", J_right=right, J_down=down)
        self.assertNotIn("ground_energy", ground_states.load(f"{d}/couplings_only.npz"))
        wrong = energies.copy()
        wrong[2] += 1.0
        nan = right.copy()
        nan[1, 0, 0] = np.nan
        cases = {
            "lie.npz": (dict(J_right=right, J_down=down, ground_energy=wrong, ground_state=states),
                        "instance 2: its ground_state has energy"),
            "nan.npz": (dict(J_right=nan, J_down=down), "J_right of instance 1 holds NaN"),
            "shape.npz": (dict(J_right=right, J_down=down[:, :3]), "must both be \\(n, L, L\\)"),
            "missing.npz": (dict(J_right=right), "missing array 'J_down'"),
            "spins.npz": (dict(J_right=right, J_down=down, ground_state=states * 2),
                          "ground_state of instance 0 is not all \\+-1"),
        }
        for name, (arrays, message) in cases.items():
            np.savez(f"{d}/{name}", **arrays)
            with self.assertRaisesRegex(InputError, f"{name}: .*{message}"):
                ground_states.load(f"{d}/{name}")
        with self.assertRaisesRegex(InputError, "no such instance file"):
            ground_states.load(f"{d}/absent.npz")


class ScriptTest(tf.test.TestCase):
    def test_new_instances_then_prove_given_couplings(self):
        d = self.get_temp_dir()
        run = lambda *args: testing.run_script("ground_states", *args)  # noqa: E731
        proc = run("--L=5", "--count=3", "--seed=2", f"--out={d}/ea5.npz")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("3 proven 5x5 ground states", proc.stdout)
        first = ground_states.load(f"{d}/ea5.npz")
        with np.load(f"{d}/ea5.npz") as data:
            np.savez(f"{d}/given.npz", J_right=data["J_right"], J_down=data["J_down"])
        proc = run(f"--instances={d}/given.npz", f"--out={d}/again.npz")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertAllClose(ground_states.load(f"{d}/again.npz")["ground_energy"],
                            first["ground_energy"])
