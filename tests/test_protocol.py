"""The COOL evaluation protocol: the WSC's ground energy against its closed form, the cold start
that traps linear SA (thesis Fig. 3b), the replayed average schedule equal to the schedule
the environment played, the easy/difficult split, and bin/evaluate_cool with several L and WSC."""

import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.physics.spins import couplings, ground_states
from tfphys.rl import agent, cool, evaluation, protocol


def _instance_file(directory, L, count, seed):
    right, down = ground_states.random_instances(L, count, seed=seed)
    solved = [ground_states.solve(r, d) for r, d in zip(right, down)]
    path = os.path.join(directory, f"ea{L}.npz")
    ground_states.save(path, right, down, [e for e, _ in solved], [s for _, s in solved])
    return path


def _policy(directory, name, **overrides):
    preset = agent.preset_with(name, episodes=8, replicas=4, steps=3, sweeps=5, **overrides)
    path = os.path.join(directory, name)
    agent.train_cool(preset, export_dir=path, progress=False)
    return path


class WscTest(tf.test.TestCase):
    def test_ground_energy_by_enumeration_is_the_closed_form(self):
        wsc = couplings.weak_strong_clusters()
        # all up: 36 bonds satisfied, fields 8 * 1 + 8 * (-0.44); local minimum: 4 bonds broken
        self.assertAllClose(evaluation.ground_energy(wsc), -36 - (8 - 3.52))
        self.assertAllClose(wsc.energy(cool.field_aligned(wsc)[None])[0], -32 + 4 - (8 + 3.52))
        with self.assertRaisesRegex(InputError, "not feasible"):
            evaluation.ground_energy(couplings.ising(6))

    def test_linear_sa_escapes_the_local_minimum_only_from_a_hot_start(self):
        wsc = couplings.weak_strong_clusters()
        models = [(wsc, evaluation.ground_energy(wsc))]
        results = {beta: evaluation.best_linear(models, 4, grid_i=(beta,), grid_f=(5.0,),
                                                sweeps=300, replicas=8, order="replicas",
                                                start=cool.field_aligned)[1].p
                   for beta in (0.1, 4.0)}
        self.assertEqual(results, {0.1: 1.0, 4.0: 0.0})


class ProtocolTest(tf.test.TestCase):
    def test_replayed_average_of_one_episode_is_its_schedule(self):
        env = cool.AnnealingEnvironment(cool.spin_glasses(4), n_replicas=2, n_steps=4,
                                        sweeps_per_step=3, beta0=(0.2, 0.6), seed=1)
        env.reset()
        for change in (0.5, -0.1, 0.7, 0.2):
            env.step(np.float32(change))
        knots = [[env.start_beta] + [betas[-1] for betas in env.schedule]]
        self.assertAllClose(agent.replay_schedule(knots, 3), np.concatenate(env.schedule))
        twice = agent.replay_schedule(np.array([[0.0, 1.0], [1.0, 2.0]]), 2)  # mean knots 0.5, 1.5
        self.assertAllClose(twice, [1.0, 1.5])

    def test_scores_split_replay_and_grids_on_proven_instances(self):
        directory = self.get_temp_dir()
        _, models = protocol.instances(_instance_file(directory, 4, 3, seed=4))
        policy = agent.load_policy(_policy(directory, "cool_ea4_quick"))
        rows, extra = protocol.spin_glass_rows(models, policy, runs=2, sweeps=40, replicas=4,
                                               replay=True, split=0.5)
        self.assertEqual(extra["policy_betas"].shape, (6, 4))  # 3 instances x 2 runs, 3 steps
        methods = {protocol.method(label) for label in rows}
        self.assertEqual(methods, {"COOL policy", "average policy schedule replayed",
                                   "linear SA", "dwave-samplers SA",
                                   "dwave-samplers SA geometric"})
        linear = next(s for label, s in rows.items() if label.startswith("linear SA beta")
                      and "[" not in label)
        difficult = linear.per_instance <= 1
        for label, score in rows.items():
            if "[" in label:
                continue
            self.assertEqual(score.trials, 6)
            easy = rows[f"{label} [easy: {int((~difficult).sum())} instances]"]
            hard = rows[f"{label} [difficult: {int(difficult.sum())} instances]"]
            self.assertEqual(easy.successes + hard.successes, score.successes)
            self.assertEqual(easy.trials + hard.trials, 6)
        with self.assertRaisesRegex(InputError, "keep 'linear'"):
            protocol.spin_glass_rows(models, baselines=("dwave",), runs=1, split=0.03)
        with self.assertRaisesRegex(InputError, "give --policy"):
            protocol.spin_glass_rows(models, runs=1, replay=True)
        (beta_i, beta_f), best = evaluation.best_geometric(models, 1, grid_i=(0.1, 9.0),
                                                           grid_f=(9.0,), sweeps=40, replicas=4)
        self.assertEqual((beta_i, beta_f, best.p), (0.1, 9.0, 1.0))  # frozen 9 -> 9 does worse
        self.assertEqual(evaluation.Score.of([], 3).figures(), {"episodes": 0})


class ScriptTest(tf.test.TestCase):
    def _run(self, *args):
        proc = testing.run_script("evaluate_cool", *args, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        return proc.stdout

    def test_several_sizes_with_their_policy_and_the_n99_plot(self):
        directory = self.get_temp_dir()
        files = [_instance_file(directory, L, 2, seed=L) for L in (4, 5)]
        policy = _policy(directory, "cool_ea4_quick")
        plot = os.path.join(directory, "n99.png")
        out = self._run(f"--instances={','.join(files)}", "--runs=2", "--sweeps=40",
                        "--baselines=linear,dwave", "--replicas=4", "--plot_n99", plot)
        self.assertIn("5x5, 2 instances x 2 runs, linear SA beta", out)
        self.assertGreater(os.path.getsize(plot), 10000)
        out = self._run(f"--instances={','.join(files)}", f"--policy={policy}", "--runs=1",
                        "--sweeps=20", "--baselines=", "--replicas=2")
        self.assertIn("4x4, 2 instances x 1 runs, COOL policy (cool_ea4_quick): {", out)
        self.assertIn("5x5: no --policy for this size, baselines only", out)
        proc = testing.run_script("evaluate_cool", f"--instances={files[1]}",
                                  f"--policy={policy}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no instance file has the size of a --policy", proc.stderr)

    def test_wsc_success_by_start_beta_and_its_plot(self):
        directory = self.get_temp_dir()
        policy = _policy(directory, "cool_wsc_quick")
        plot = os.path.join(directory, "wsc.png")
        out = self._run("--hamiltonian=wsc", f"--policy={policy}", "--runs=2",
                        "--start_betas=0.1,3", f"--plot={plot}")
        self.assertIn("WSC from the local minimum at beta 3.0, 2 runs, COOL policy: {", out)
        self.assertIn("WSC from the local minimum at beta 0.1, 2 runs, linear SA beta 0.1 -> 1.0 "
                      "(best beta_f of grid): {\"p\": 1.0", out)
        self.assertGreater(os.path.getsize(plot), 10000)
