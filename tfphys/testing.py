"""Helpers for tests of tfphys and of code built on it.

* `use_logical_cpus(n)` splits the host CPU into `n` logical devices so MirroredStrategy code
  paths run for real on a machine without GPUs (call it before TensorFlow starts executing).
* `horovodrun(args, np)` runs a command under a real `horovodrun --gloo` on this host.
* `exact_ising_brain(f, c)` is an EDNN brain whose tile output is the exact Ising energy of its
  focus sites' right and down bonds: an EDNN with a known answer.
"""

import os
import subprocess
import sys


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
