"""Planar (continuous) Potts model of the thesis, Eq. (2): H = J sum_<ij> cos(s_i - s_j),
angles s_i in [0, pi) on an L x L torus with nearest-neighbour bonds."""

import numpy as np

from tfphys.errors import InputError


def _check(angles):
    a = np.asarray(angles, np.float64)
    a = a[None] if a.ndim == 2 else a
    if a.ndim != 3:
        raise InputError(f"Potts configurations must have shape (batch, L, L), got {a.shape}")
    return a


def energy(angles, J=1.0):
    """H = J sum_<ij> cos(s_i - s_j) for a batch (batch, L, L) of angles."""
    a = _check(angles)
    bonds = np.cos(a - np.roll(a, -1, axis=1)) + np.cos(a - np.roll(a, -1, axis=2))
    return J * bonds.sum(axis=(1, 2))


def energy_tf(angles, J=1.0):
    """TensorFlow version of `energy` (float tensor of shape (batch, L, L))."""
    import tensorflow as tf

    a = tf.convert_to_tensor(angles)
    bonds = tf.cos(a - tf.roll(a, -1, axis=1)) + tf.cos(a - tf.roll(a, -1, axis=2))
    return J * tf.reduce_sum(bonds, axis=[1, 2])


def random_configurations(n, L, seed=None):
    """n configurations with angles uniform in [0, pi), as the thesis samples them."""
    return np.random.default_rng(seed).uniform(0.0, np.pi, size=(n, L, L))
