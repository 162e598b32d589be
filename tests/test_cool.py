"""The COOL annealing environment: TF-Agents' own validation, episode length, the sparse reward
against energies recomputed from the observed spins, the negative-beta guard, destructive
observation's cost, the WSC local-minimum start and instance files."""

import os

import numpy as np
import tensorflow as tf
from tf_agents.environments import batched_py_environment, utils

from tfphys.physics.spins import couplings, ground_states
from tfphys.rl import cool


def small(**kwargs):
    args = dict(n_replicas=8, n_steps=5, sweeps_per_step=10, seed=0)
    return cool.AnnealingEnvironment(cool.spin_glasses(4), **{**args, **kwargs})


class EnvironmentTest(tf.test.TestCase):
    def test_tf_agents_validation_and_batching(self):
        utils.validate_py_environment(small(), episodes=2)
        timed = small(step_in_observation=True)
        utils.validate_py_environment(timed, episodes=1)
        first = timed.reset().observation
        self.assertAllEqual(first["step"], [0.0])
        self.assertAllClose(timed.step(np.float32(0.1)).observation["step"], [1 / 5])
        batched = batched_py_environment.BatchedPyEnvironment([small(seed=1), small(seed=2)])
        step = batched.reset()
        self.assertEqual(step.observation.shape, (2, 8, 16))
        step = batched.step(np.float32([0.2, 0.3]))
        self.assertAllEqual(step.reward, [0.0, 0.0])

    def test_an_episode_is_n_steps_and_the_last_reward_is_minus_the_lowest_energy(self):
        env = small(n_steps=7)
        step = env.reset()
        self.assertTrue(step.is_first())
        self.assertAllEqual(np.unique(step.observation), [-1.0, 1.0])
        rewards = []
        while not step.is_last():
            step = env.step(np.float32(0.4))
            rewards.append(float(step.reward))
        self.assertLen(rewards, 7)
        self.assertAllEqual(rewards[:-1], [0.0] * 6)
        energies = env.model.energy(step.observation.reshape(8, 4, 4))  # from the spins seen
        self.assertAllClose(rewards[-1], -energies.min(), rtol=1e-6)
        self.assertAllClose(env.beta, 0.1 + 7 * 0.4)
        self.assertTrue(env.step(np.float32(0.1)).is_first())  # a step after the end resets

    def test_reseed_makes_the_next_episode_independent_of_the_history(self):
        played, fresh = small(seed=3, beta0=(0.1, 2.0)), small(seed=4, beta0=(0.1, 2.0))
        played.reset()
        for _ in range(7):  # one episode and a bit: another history
            played.step(np.float32(0.3))
        for env in (played, fresh):
            env.reseed([0, 1, 5])
        first, second = played.reset(), fresh.reset()
        self.assertAllEqual(first.observation, second.observation)
        self.assertEqual(played.start_beta, fresh.start_beta)
        self.assertAllClose(played.model.matrix.toarray(), fresh.model.matrix.toarray())

    def test_a_change_to_negative_beta_is_ignored(self):
        env = small(beta0=0.3)
        env.reset()
        env.step(np.float32(-1.0))  # 0.3 - 1 < 0: beta stays 0.3
        self.assertAllClose(env.schedule[0], np.full(10, 0.3))
        env.step(np.float32(0.5))
        self.assertAllClose(env.schedule[1][[0, -1]], [0.35, 0.8])  # linear over the step

    def test_destructive_observation_replays_the_history_on_fresh_replicas(self):
        env = small(destructive=True, n_steps=6)
        env.reset()
        seen = []
        for _ in range(6):
            engine_before = env.engine
            env.step(np.float32(0.3))
            self.assertIsNot(env.engine, engine_before)
            seen.append(env.sweeps_run)
        self.assertEqual(seen[-1], 10 * 6 * 7 // 2)  # n_steps (n_steps + 1) / 2 steps of sweeps

    def test_wsc_starts_in_its_local_minimum_and_stays_there_when_cold(self):
        wsc = couplings.weak_strong_clusters()
        env = cool.AnnealingEnvironment(cool.fixed(wsc), n_replicas=4, n_steps=3,
                                        sweeps_per_step=20, beta0=20.0, start="local_minimum",
                                        seed=3)
        step = env.reset()
        local = np.where(wsc.field >= 0, 1, -1)
        self.assertAllEqual(step.observation, np.tile(local, (4, 1)))
        while not step.is_last():
            step = env.step(np.float32(0.0))
        self.assertAllClose(step.reward, -wsc.energy(local[None])[0])  # too cold to escape

    def test_instance_files_are_played_in_turn(self):
        right, down = ground_states.random_instances(4, 2, seed=5)
        path = os.path.join(self.get_temp_dir(), "ea4.npz")
        np.savez(path, J_right=right, J_down=down)
        env = cool.AnnealingEnvironment(cool.instance_file(path), n_replicas=2, n_steps=1,
                                        sweeps_per_step=1, seed=0)
        models = []
        for _ in range(3):
            env.reset()
            models.append(env.model)
        state = np.ones((1, 4, 4))
        expected = [ground_states.couplings(right[k], down[k]).energy(state) for k in (0, 1, 0)]
        self.assertAllClose([m.energy(state) for m in models], expected)
