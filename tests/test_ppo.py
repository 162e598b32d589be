"""TF-Agents PPO with recurrent actor and value networks trains on a tiny environment."""

import numpy as np
import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.drivers import dynamic_episode_driver
from tf_agents.environments import batched_py_environment, py_environment, tf_py_environment
from tf_agents.networks import actor_distribution_rnn_network, value_rnn_network
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts


class Track(py_environment.PyEnvironment):
    """Five steps; the reward is -|action - target|, the target is observed."""

    def __init__(self, seed):
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._observation_spec = array_spec.ArraySpec((2,), np.float32, "observation")
        self._action_spec = array_spec.BoundedArraySpec((1,), np.float32, -1.0, 1.0, "action")
        self._t = 0
        self._target = 0.0

    def observation_spec(self):
        return self._observation_spec

    def action_spec(self):
        return self._action_spec

    def _observe(self):
        return np.array([self._target, self._t / 5.0], np.float32)

    def _reset(self):
        self._t, self._target = 0, float(self._rng.uniform(-1, 1))
        return ts.restart(self._observe())

    def _step(self, action):
        if self.current_time_step().is_last():
            return self.reset()
        self._t += 1
        reward = -abs(float(action[0]) - self._target)
        if self._t == 5:
            return ts.termination(self._observe(), reward)
        return ts.transition(self._observe(), reward)


class PPOClipRnnTest(tf.test.TestCase):
    def test_one_training_step_changes_the_policy(self):
        env = tf_py_environment.TFPyEnvironment(
            batched_py_environment.BatchedPyEnvironment([Track(0), Track(1)]))
        actor = actor_distribution_rnn_network.ActorDistributionRnnNetwork(
            env.observation_spec(), env.action_spec(), input_fc_layer_params=(16,),
            lstm_size=(8,), output_fc_layer_params=None)
        value = value_rnn_network.ValueRnnNetwork(
            env.observation_spec(), input_fc_layer_params=(16,), lstm_size=(8,),
            output_fc_layer_params=None)
        agent = ppo_clip_agent.PPOClipAgent(
            env.time_step_spec(), env.action_spec(), tf.keras.optimizers.Adam(1e-3),
            actor_net=actor, value_net=value, importance_ratio_clipping=0.2, num_epochs=2,
            train_step_counter=tf.Variable(0))
        agent.initialize()
        buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
            agent.collect_data_spec, batch_size=env.batch_size, max_length=64)
        dynamic_episode_driver.DynamicEpisodeDriver(
            env, agent.collect_policy, observers=[buffer.add_batch], num_episodes=4).run()
        before = [v.numpy().copy() for v in actor.trainable_variables]

        loss = agent.train(buffer.gather_all()).loss

        self.assertTrue(np.isfinite(loss.numpy()))
        self.assertEqual(int(agent.train_step_counter.numpy()), 2)  # one step per epoch
        changed = [not np.allclose(b, a.numpy()) for b, a in zip(before, actor.trainable_variables)]
        self.assertTrue(any(changed))
