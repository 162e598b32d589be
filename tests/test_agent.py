"""The COOL agent: the thesis's network, an LSTM state that carries across an episode, a short
PPO run whose loss is finite and whose policy changes, resume from a run dir, and the exported
policy SavedModel acting like the trained one."""

import os

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from tfphys.errors import InputError
from tfphys.physics.spins import ground_states
from tfphys.rl import agent

TINY = agent.preset_with("cool_ea4_quick", episodes=8, replicas=6, steps=4, sweeps=5)


def _agent(preset=TINY):
    env = agent._batched(preset, 0, 2)
    return env, agent.make_agent(env, preset, tf.Variable(0, dtype=tf.int64))


class NetworkTest(tf.test.TestCase):
    def test_two_parallel_convolutions_over_replicas_and_sites(self):
        layer = agent.ReplicaFeatures(6, 16)
        out = layer(np.ones((3, 6, 16), np.float32))
        self.assertEqual(out.shape, (3, 6 * 64 + 16 * 64))
        self.assertEqual(layer.per_replica.kernel.shape, (1, 16, 1, 64))
        self.assertEqual(layer.per_site.kernel.shape, (6, 1, 1, 64))
        copy = agent.ReplicaFeatures.from_config(layer.get_config())
        self.assertEqual(copy(np.ones((1, 6, 16), np.float32)).shape, (1, 1408))

    def test_the_lstm_state_carries_across_steps(self):
        env, ppo = _agent()
        policy = ppo.policy
        first = env.reset()
        state = policy.get_initial_state(2)
        after_one = policy.action(first, state).state
        second = ts.transition(first.observation, tf.zeros(2), tf.ones(2))
        carried = policy.action(second, after_one).action.numpy()
        fresh = policy.action(second, policy.get_initial_state(2)).action.numpy()
        self.assertNotAllClose(carried, fresh)  # same observation, different memory
        env.close()


class TrainingTest(tf.test.TestCase):
    def test_ppo_trains_resumes_and_exports_a_policy_that_acts_the_same(self):
        run = os.path.join(self.get_temp_dir(), "run")
        policy_dir = os.path.join(self.get_temp_dir(), "policy")
        first = agent.train_cool(TINY, run_dir=run, progress=False)
        self.assertEqual(first["episodes"], 8)
        self.assertLen(first["final_rewards"], 1)
        more = agent.preset_with("cool_ea4_quick", episodes=16, replicas=6, steps=4, sweeps=5)
        resumed = agent.train_cool(more, run_dir=run, export_dir=policy_dir, progress=False)
        self.assertEqual(resumed["episodes"], 16)
        self.assertLen(resumed["final_rewards"], 1)  # only the update that was left
        self.assertTrue(np.all(np.isfinite(resumed["final_rewards"])))
        # the trained policy differs from a fresh one and reloads acting the same
        env, fresh = _agent(more)
        loaded, preset = agent.load_policy(policy_dir)
        self.assertEqual(preset, more)
        step = env.reset()
        fresh_action = fresh.policy.action(step, fresh.policy.get_initial_state(2)).action
        loaded_action = loaded.action(step, loaded.get_initial_state(2)).action
        self.assertNotAllClose(fresh_action, loaded_action)
        trained = resumed["policy"]
        self.assertAllClose(trained.action(step, trained.get_initial_state(2)).action,
                            loaded_action, atol=1e-6)
        right, down = ground_states.random_instances(4, 1, seed=2)
        ground = ground_states.solve(right[0], down[0])[0]
        model = ground_states.couplings(right[0], down[0])
        energies, betas, acceptance = agent.policy_anneal(loaded, preset, model, runs=2)
        self.assertEqual(energies.shape, (2, 6))
        self.assertEqual(betas.shape, (2, 5))  # start + 4 steps
        self.assertTrue(np.all((acceptance >= 0) & (acceptance <= 1)))
        self.assertTrue(np.all(energies >= ground - 1e-9))  # nothing below the proven minimum
        env.close()
        with self.assertRaisesRegex(InputError, "not a COOL policy export"):
            agent.load_policy(self.get_temp_dir())


class AblationTest(tf.test.TestCase):
    def test_the_feed_forward_agent_sees_the_step_and_trains(self):
        preset = agent.preset_with("cool_ea4_quick_nolstm", episodes=8, replicas=6, steps=4,
                                   sweeps=5)
        policy_dir = os.path.join(self.get_temp_dir(), "nolstm")
        result = agent.train_cool(preset, export_dir=policy_dir, progress=False)
        self.assertTrue(np.all(np.isfinite(result["final_rewards"])))
        loaded, loaded_preset = agent.load_policy(policy_dir)
        self.assertFalse(loaded_preset.lstm)
        right, down = ground_states.random_instances(4, 1, seed=3)
        energies, betas, _ = agent.policy_anneal(loaded, loaded_preset,
                                                 ground_states.couplings(right[0], down[0]), 2)
        self.assertEqual((energies.shape, betas.shape), ((2, 6), (2, 5)))
