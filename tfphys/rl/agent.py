"""The COOL agent: PPO (TF-Agents' PPOClipAgent) with the thesis's network, trained on
`rl.cool.AnnealingEnvironment`, and the trained policy as an annealer.

Network (thesis Fig. 2): the (replicas x spins) observation goes through two parallel
convolutions, 64 kernels of 1 x N (each sees one replica) and 64 kernels of N_reps x 1 (each
sees one site across the replicas), flattened and concatenated, then dense 64, LSTM 64 and
a Gaussian policy head (mean, std) and a value head; tanh everywhere. PPO as the thesis:
gamma 0.99, 8 episodes per update, c1 = 0.5, c2 = 0.001, clip 0.05, one minibatch; TF-Agents'
defaults that differ are set explicitly (clipping, GAE on, observations not normalised: they
are +-1 spins).
"""

import dataclasses
import json
import math
import os
import time

import numpy as np
import tensorflow as tf
from absl import logging
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.drivers import dynamic_episode_driver
from tf_agents.environments import batched_py_environment, tf_py_environment
from tf_agents.networks import (actor_distribution_network, actor_distribution_rnn_network,
                                value_network, value_rnn_network)
from tf_agents.policies import policy_saver
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.utils import common
from tqdm import tqdm

from tfphys.errors import InputError, TrainingDiverged
from tfphys.physics.spins import couplings
from tfphys.rl import cool, evaluation
from tfphys.training import export, presets
from tfphys.training.fit import claim_outputs


@dataclasses.dataclass(frozen=True)
class CoolPreset:
    name: str
    hamiltonian: str  # "wsc", "spin_glass" or "ising"
    L: int = 4  # lattice side (spin glass, Ising); WSC has 16 spins
    replicas: int = 64
    steps: int = 40
    sweeps: int = 100
    episodes: int = 25000
    episodes_per_update: int = 8
    learning_rate: float = 1e-6
    num_epochs: int = 4  # the thesis names none; PPO's customary value
    beta0: tuple = (0.1, 1.0)  # drawn uniformly at every reset
    destructive: bool = False
    lstm: bool = True  # False: the thesis's ablation (feed-forward, step index observed)
    description: str = ""


def _presets():
    made = [CoolPreset("cool_wsc", "wsc", beta0=(0.1, 3.0), description="the thesis: weak-strong "
                       "clusters from the local minimum, start beta drawn in [0.1, 3]"),
            CoolPreset("cool_ising16", "ising", L=16, description="the thesis: 16x16 ferromagnet")]
    made += [CoolPreset(f"cool_ea{L}", "spin_glass", L=L, description=f"the thesis: {L}x{L} EA "
                        "spin glasses, a new instance every episode")
             for L in (4, 6, 8, 10, 12, 14, 16)]
    made += [CoolPreset("cool_wsc_quick", "wsc", episodes=5000, learning_rate=3e-4,
                        beta0=(0.1, 3.0), description="CPU-sized WSC: 5,000 episodes (17 min), "
                        "rate 3e-4")]
    made += [CoolPreset(f"cool_ea{L}_quick", "spin_glass", L=L, episodes=800, learning_rate=3e-4,
                        description=f"CPU-sized {L}x{L} EA: 800 episodes, rate 3e-4")
             for L in (4, 6, 8)]
    made += [CoolPreset("cool_ea4_quick_nolstm", "spin_glass", L=4, episodes=800,
                        learning_rate=3e-4, lstm=False, description="cool_ea4_quick without the "
                        "LSTM, the step index appended to the observation (the ablation)")]
    return {p.name: p for p in made}


PRESETS = _presets()
OVERRIDES = ("episodes", "learning_rate", "replicas", "steps", "sweeps", "destructive", "lstm")


def preset_with(name, **overrides):
    return presets.overridden(PRESETS, name, "COOL", **overrides)


def environment(preset, seed=0, source=None):
    """One `AnnealingEnvironment` of `preset` (`source` replaces its Hamiltonians)."""
    if source is None:
        source = {"wsc": lambda: cool.fixed(couplings.weak_strong_clusters()),
                  "ising": lambda: cool.fixed(couplings.ising(preset.L)),
                  "spin_glass": lambda: cool.spin_glasses(preset.L)}[preset.hamiltonian]()
    return cool.AnnealingEnvironment(
        source, preset.replicas, preset.steps, preset.sweeps, preset.beta0,
        "local_minimum" if preset.hamiltonian == "wsc" else "bernoulli", preset.destructive,
        order="replicas", seed=seed, step_in_observation=not preset.lstm)


@tf.keras.utils.register_keras_serializable("tfphys")
class ReplicaFeatures(tf.keras.layers.Layer):
    """(batch, replicas, spins) -> features: 64 kernels of 1 x spins (per replica) and 64 of
    replicas x 1 (per site), tanh, flattened and concatenated."""

    def __init__(self, replicas, spins, kernels=64, **kwargs):
        super().__init__(**kwargs)
        self.replicas, self.spins, self.kernels = int(replicas), int(spins), int(kernels)
        self.per_replica = tf.keras.layers.Conv2D(kernels, (1, spins), activation="tanh")
        self.per_site = tf.keras.layers.Conv2D(kernels, (replicas, 1), activation="tanh")

    def call(self, x):
        x = tf.expand_dims(tf.cast(x, tf.float32), -1)
        flat = lambda y: tf.reshape(y, [tf.shape(y)[0], -1])  # noqa: E731
        return tf.concat([flat(self.per_replica(x)), flat(self.per_site(x))], axis=-1)

    def get_config(self):
        return {**super().get_config(), "replicas": self.replicas, "spins": self.spins,
                "kernels": self.kernels}


def make_agent(env, preset, train_step):
    """The PPO agent for a TF environment of `preset` (LSTM networks, or feed-forward ones that
    also see the step index when `preset.lstm` is False)."""
    observation = env.observation_spec()
    if preset.lstm:
        replicas, spins = observation.shape
        features = lambda: ReplicaFeatures(replicas, spins)  # noqa: E731
        actor = actor_distribution_rnn_network.ActorDistributionRnnNetwork(
            observation, env.action_spec(), preprocessing_layers=features(),
            input_fc_layer_params=(64,), lstm_size=(64,), output_fc_layer_params=None,
            activation_fn=tf.nn.tanh)
        value = value_rnn_network.ValueRnnNetwork(
            observation, preprocessing_layers=features(), input_fc_layer_params=(64,),
            lstm_size=(64,), output_fc_layer_params=None, activation_fn=tf.nn.tanh)
    else:
        replicas, spins = observation["spins"].shape
        features = lambda: {"spins": ReplicaFeatures(replicas, spins),  # noqa: E731
                            "step": tf.keras.layers.Flatten()}
        combiner = tf.keras.layers.Concatenate
        actor = actor_distribution_network.ActorDistributionNetwork(
            observation, env.action_spec(), preprocessing_layers=features(),
            preprocessing_combiner=combiner(), fc_layer_params=(64,), activation_fn=tf.nn.tanh)
        value = value_network.ValueNetwork(
            observation, preprocessing_layers=features(), preprocessing_combiner=combiner(),
            fc_layer_params=(64,), activation_fn=tf.nn.tanh)
    agent = ppo_clip_agent.PPOClipAgent(
        env.time_step_spec(), env.action_spec(), tf.keras.optimizers.Adam(preset.learning_rate),
        actor_net=actor, value_net=value, importance_ratio_clipping=0.05, discount_factor=0.99,
        entropy_regularization=0.001, value_pred_loss_coef=0.5, num_epochs=preset.num_epochs,
        use_gae=True, normalize_observations=False, normalize_rewards=True,
        train_step_counter=train_step)
    agent.initialize()
    return agent


def _batched(preset, seed, count, source=None):
    """`count` environments of `preset` stepped together (in threads) as one TF environment;
    its `pyenv.envs` are the environments."""
    envs = [environment(preset, seed * 1000 + k, source) for k in range(count)]
    return tf_py_environment.TFPyEnvironment(
        batched_py_environment.BatchedPyEnvironment(envs, multithreading=True))


def train_cool(preset, run_dir=None, export_dir=None, seed=0, progress=True):
    """Train `preset`'s agent; returns {"policy" (greedy), "episodes", "seconds",
    "episodes_per_second",
    "final_rewards" (mean -min H of each update's episodes)} and {"export"} with `export_dir`.
    With `run_dir`, checkpoints (agent, optimizer, counters) every update and TensorBoard; a
    rerun resumes after the last finished update. Every update's episodes (Hamiltonians, start
    temperatures, replicas) are drawn from (seed, environment, update), so a resumed run plays
    the episodes an uninterrupted one would; the policy's action noise comes from TensorFlow's
    stateful sampling, which is not checkpointed, so a resumed run is not bit-identical."""
    claim_outputs(run_dir, [export_dir] if export_dir else [])
    tf.keras.utils.set_random_seed(seed)
    env = _batched(preset, seed, preset.episodes_per_update)
    train_step = tf.Variable(0, dtype=tf.int64)
    episodes_done = tf.Variable(0, dtype=tf.int64)
    agent = make_agent(env, preset, train_step)
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
        agent.collect_data_spec, batch_size=env.batch_size, max_length=preset.steps + 2)
    driver = dynamic_episode_driver.DynamicEpisodeDriver(
        env, agent.collect_policy, observers=[buffer.add_batch],
        num_episodes=preset.episodes_per_update)
    learn = common.function(agent.train)
    checkpointer, writer = None, None
    if run_dir:
        checkpointer = common.Checkpointer(os.path.join(run_dir, "checkpoints"), max_to_keep=2,
                                           agent=agent, episodes=episodes_done)
        checkpointer.initialize_or_restore()
        writer = tf.summary.create_file_writer(os.path.join(run_dir, "tensorboard"))
    updates = math.ceil(preset.episodes / preset.episodes_per_update)
    done = int(episodes_done.numpy()) // preset.episodes_per_update
    rewards, start = [], time.perf_counter()
    for update in tqdm(range(done, updates), initial=done, total=updates, unit="update",
                       desc=preset.name, disable=None if progress else True):
        for k, e in enumerate(env.pyenv.envs):  # episodes of update u come from (seed, k, u)
            e.reseed([seed, k, update])
        driver.run()
        experience = buffer.gather_all()
        loss = float(learn(experience).loss)
        buffer.clear()
        final = experience.reward.numpy()[experience.is_last().numpy()]
        rewards.append(float(final.mean()))
        episodes_done.assign_add(preset.episodes_per_update)
        if not np.isfinite(loss):
            raise TrainingDiverged(f"training diverged: the PPO loss became {loss} at update "
                                   f"{update}; lower --learning_rate")
        if writer is not None:
            with writer.as_default(step=int(episodes_done.numpy())):
                tf.summary.scalar("final_reward", rewards[-1])
                tf.summary.scalar("loss", loss)
        if checkpointer is not None:
            checkpointer.save(global_step=train_step)
    seconds = time.perf_counter() - start
    env.close()
    result = {"policy": agent.policy, "episodes": int(episodes_done.numpy()), "seconds": seconds,
              "episodes_per_second": len(rewards) * preset.episodes_per_update / max(seconds, 1e-9),
              "final_rewards": rewards}
    if export_dir:
        result["export"] = export_policy(agent, export_dir, preset)
    logging.info("COOL %s: %d episodes in %.1f s", preset.name, result["episodes"], seconds)
    return result


def export_policy(agent, path, preset):
    """The greedy policy as a SavedModel (PolicySaver) plus tfphys.json, written atomically."""
    def write(tmp):
        policy_saver.PolicySaver(agent.policy, batch_size=None).save(tmp)
        with open(os.path.join(tmp, export.MARKER), "w") as handle:
            json.dump({"kind": "cool_policy", "preset": preset.name,
                       "preset_fields": dataclasses.asdict(preset)}, handle)
    return export.write_dir(path, write)


def load_policy(path):
    """(policy SavedModel, its preset) of an export_policy directory."""
    try:
        with open(os.path.join(path, export.MARKER)) as handle:
            facts = json.load(handle)
    except (OSError, ValueError):
        raise InputError(f"{path} is not a COOL policy export (bin/train_cool --export DIR)")
    if facts.get("kind") != "cool_policy":
        raise InputError(f"{path} is a {facts.get('kind')} export, not a COOL policy")
    fields = facts["preset_fields"]
    fields["beta0"] = tuple(fields["beta0"])
    return tf.saved_model.load(path), CoolPreset(**fields)


def policy_anneal(policy, preset, model, runs, seed=0):
    """`runs` episodes of `model` driven by `policy`, stepped together as one batch: final
    energies (runs, replicas), the start beta and the beta at the end of every step
    (runs, steps + 1: the schedule is linear in between) and the mean acceptance of every step
    (runs, steps)."""
    env = _batched(preset, seed, runs, cool.fixed(model))
    envs = env.pyenv.envs
    step = env.reset()
    state = policy.get_initial_state(runs)
    while not bool(step.is_last().numpy().all()):
        out = policy.action(step, state)
        step, state = env.step(out.action), out.state
    env.close()
    return (np.stack([e.engine.energy for e in envs]),
            np.array([[e.start_beta] + [betas[-1] for betas in e.schedule] for e in envs]),
            np.array([e.acceptance for e in envs]))


def policy_score(policy, preset, instances, runs, seed=0):
    """(`evaluation.Score` of the policy on (model, ground energy) instances, betas and
    acceptance of every episode as `policy_anneal` gives them, stacked)."""
    wins, betas, acceptance = [], [], []
    for k, (model, ground) in enumerate(instances):
        energies, b, a = policy_anneal(policy, preset, model, runs, seed + k)
        wins.append(sum(evaluation.succeeded(e, ground) for e in energies))
        betas.append(b)
        acceptance.append(a)
    return (evaluation.Score.of(wins, runs), np.concatenate(betas), np.concatenate(acceptance))


def replay_schedule(betas, sweeps):
    """The per-sweep schedule through the mean of episodes' knots `betas` (episodes, steps + 1,
    as `policy_anneal` gives them), linear over every step of `sweeps` sweeps: the thesis's
    average-schedule replay (Fig. 5d)."""
    knots = np.asarray(betas, np.float64).mean(axis=0)
    return np.concatenate([np.linspace(a, b, int(sweeps) + 1)[1:]
                           for a, b in zip(knots[:-1], knots[1:])])
