"""Helpers for tests of tfphys and of code built on it.

* `use_logical_cpus(n)` splits the host CPU into `n` logical devices so MirroredStrategy code
  paths run for real on a machine without GPUs (call it before TensorFlow starts executing).
* `horovodrun(args, np)` runs a command under a real `horovodrun --gloo` on this host.
* `run_script(name, *args)` runs the checkout's `bin/<name>` (or `benchmarks/<name>`) as a user
  would; `CHECKOUT` is the checkout's root.
* `exact_ising_brain(f, c)` is an EDNN brain whose tile output is the exact Ising energy of its
  focus sites' right and down bonds: an EDNN with a known answer.
* `ising_transfer_matrix(L, T)` is the exact <E>/N and C/N of the periodic L x L Ising model
  (row-to-row transfer matrix, L <= 10): the reference for Monte Carlo at L = 8.
* `ToyWGAN` + `toy_wgan_data(n)`: the smallest critic/generator pair with two optimizers and a
  WGAN-GP objective on 1-D Gaussian data, to test the training entry point with a model that
  brings its own train_step (the spin GANs are built the same way).
"""

import os
import subprocess
import sys

import numpy as np

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_logical_cpus(n=2):
    """Split the first physical CPU into `n` logical CPUs; returns their device names.

    TensorFlow fixes its devices when it first executes an op; if that already happened with a
    different split, a RuntimeError names the fix (call this earlier, e.g. in conftest.py).
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        pass  # already initialised: fine if the split is the one asked for
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(names) != n:
        raise RuntimeError(f"TensorFlow is already initialised with {len(names)} logical CPU(s), "
                           f"not {n}; call use_logical_cpus({n}) before any TensorFlow op runs")
    return names


def _ising_log_z(L, beta):
    """ln Z of the periodic L x L Ising model (J = 1) from the row-to-row transfer matrix."""
    rows = 2 * ((np.arange(2 ** L)[:, None] >> np.arange(L)) & 1) - 1
    within = (rows * np.roll(rows, 1, axis=1)).sum(1)
    half = np.exp(0.5 * beta * within)
    lam = np.linalg.eigvalsh(half[:, None] * np.exp(beta * (rows @ rows.T)) * half[None, :])
    top = lam.max()
    return L * np.log(top) + np.log(np.sum((lam / top) ** L))


def ising_transfer_matrix(L, T, h=1e-4):
    """Exact (<E>/N, C/N) of the periodic L x L Ising model at temperature T (L <= 10), from
    central differences of ln Z in beta."""
    if not 2 <= L <= 10:
        raise ValueError(f"the dense transfer matrix needs 2 <= L <= 10, got {L}")
    beta = 1.0 / T
    f = [_ising_log_z(L, beta + k * h) for k in (-1, 0, 1)]
    n = L * L
    return -(f[2] - f[0]) / (2 * h) / n, beta ** 2 * (f[2] - 2 * f[1] + f[0]) / h ** 2 / n


def horovodrun(args, np=2, timeout=600, env=None):
    """Run `args` (a list; use sys.executable for Python) on `np` Gloo ranks on this host.

    Returns the CompletedProcess; raises AssertionError with the job's output if it failed.
    """
    launcher = os.path.join(os.path.dirname(sys.executable), "horovodrun")
    cmd = [launcher, "-np", str(np), "-H", f"localhost:{np}", "--gloo", *map(str, args)]
    run_env = dict(os.environ, **(env or {}))
    run_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=run_env)
    if proc.returncode != 0:
        raise AssertionError(f"horovodrun failed with status {proc.returncode}: {' '.join(cmd)}\n"
                             f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n"
                             f"{proc.stderr[-4000:]}")
    return proc


def run_script(name, *args, timeout=300, folder="bin"):
    """Run the checkout's `<folder>/<name>` with this Python and `args`, TensorFlow's C++ log
    quiet (stderr then holds the script's own messages); the CompletedProcess (output captured
    as text) for the test to check its status and output."""
    return subprocess.run([sys.executable, os.path.join(CHECKOUT, folder, name), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def exact_ising_brain(focus, context):
    """Keras brain for EDNN tiles of (f + 2c)^2 spins returning -sum_focus s (s_right + s_down)."""
    import tensorflow as tf

    if context < 1:
        raise ValueError("the exact Ising brain needs context >= 1 to see the right/down bonds")
    size = focus + 2 * context
    inputs = tf.keras.Input((size, size, 1))

    def bonds(t):
        f, c = focus, context
        centre = t[:, c:c + f, c:c + f, 0]
        right = t[:, c:c + f, c + 1:c + f + 1, 0]
        down = t[:, c + 1:c + f + 1, c:c + f, 0]
        return -tf.reduce_sum(centre * (right + down), axis=[1, 2])[:, None]

    return tf.keras.Model(inputs, tf.keras.layers.Lambda(bonds)(inputs), name="exact_ising_brain")


def toy_wgan_data(n, seed=0, dtype="float32"):
    """Unbatched (real sample, generator noise, interpolation weight) examples: every random
    number the train step uses comes with the data, so placements and resumes see the same."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    real = rng.normal(3.0, 0.5, (n, 1))
    noise = rng.normal(0.0, 1.0, (n, 1))
    weight = rng.uniform(0.0, 1.0, (n, 1))  # uniform in [0, 1], as WGAN-GP requires
    return tf.data.Dataset.from_tensor_slices(tuple(a.astype(dtype) for a in (real, noise, weight)))


def _toy_wgan_class():
    import tensorflow as tf

    from tfphys.models.gan import CriticGeneratorPair

    class ToyWGAN(CriticGeneratorPair):
        """Generator x = a z + b, critic dense 8 (tanh) -> 1; WGAN-GP, one critic and one
        generator update per step, each with its own Adam (beta_1 = 0, beta_2 = 0.9)."""

        def __init__(self, gp_weight=10.0, learning_rate=3e-3, **kwargs):
            super().__init__(learning_rate, **kwargs)
            dense = tf.keras.layers.Dense
            self.generator = tf.keras.Sequential([tf.keras.Input((1,)), dense(1)], name="generator")
            self.critic = tf.keras.Sequential([tf.keras.Input((1,)), dense(8, "tanh"), dense(1)],
                                              name="critic")
            self.gp_weight = gp_weight
            self._track_average()  # with average=mu > 0, the generator's weight average

        def call(self, noise):
            return self.generator(noise)

        @staticmethod
        def _step(optimizer, network, scaled_loss, tape):
            # minimize, not apply_gradients: Horovod's DistributedOptimizer allreduces in it
            optimizer.minimize(scaled_loss, network.trainable_variables, tape=tape)

        def train_step(self, data):
            real, noise, weight = data
            # replicas sum their gradients: each scales its mean loss by 1 / replicas
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            with tf.GradientTape() as tape:
                fake = self.generator(noise)
                mixed = weight * real + (1 - weight) * fake
                with tf.GradientTape() as inner:
                    inner.watch(mixed)
                    score = self.critic(mixed)
                slope = tf.sqrt(tf.reduce_sum(inner.gradient(score, mixed) ** 2, axis=-1) + 1e-12)
                critic_loss = (tf.reduce_mean(self.critic(fake)) - tf.reduce_mean(self.critic(real))
                               + self.gp_weight * tf.reduce_mean((slope - 1) ** 2))
                scaled = critic_loss / replicas
            self._step(self.critic_optimizer, self.critic, scaled, tape)
            with tf.GradientTape() as tape:
                generator_loss = -tf.reduce_mean(self.critic(self.generator(noise)))
                scaled = generator_loss / replicas
            self._step(self.generator_optimizer, self.generator, scaled, tape)
            self._update_average()
            return {"critic_loss": critic_loss, "generator_loss": generator_loss}

    return ToyWGAN


def kill_at(step):
    """A Keras callback that stands for SIGKILL after the `step`-th batch of a run: training
    stops dead (KeyboardInterrupt), nothing more is saved."""
    import tensorflow as tf

    class Kill(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step = 0

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step == step:
                raise KeyboardInterrupt

    return Kill()


def ToyWGAN(**kwargs):  # noqa: N802  (a class, built lazily so importing this module needs no TF)
    return _toy_wgan_class()(**kwargs)
