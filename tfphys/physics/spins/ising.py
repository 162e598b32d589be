"""The square-lattice nearest-neighbour Ising model on batches of L x L configurations.

Energies in NumPy (data generation, exact references) and TensorFlow (inside models and
tf.data), the discrete energy classes used for classification, full enumeration of small
lattices, and the lossless upscaling the thesis uses to feed 4x4 and 8x8 lattices to a 16x16 CNN.
"""


import numpy as np

from tfphys.errors import InputError
from tfphys.physics.spins.lattice import lattice_batch


def energy(spins, J=1.0):
    """H = -J sum_<ij> s_i s_j with periodic boundaries, for a batch (batch, L, L)."""
    s = lattice_batch(spins, "Ising configurations").astype(np.float64)
    bonds = s * (np.roll(s, -1, axis=1) + np.roll(s, -1, axis=2))
    return -J * bonds.sum(axis=(1, 2))


def flip_delta(spins, J=1.0):
    """Energy change of flipping each single spin: 2 J s_i (sum of its 4 neighbours), (batch, L, L)."""
    s = lattice_batch(spins, "Ising configurations").astype(np.float64)
    nbrs = sum(np.roll(s, k, axis=a) for k in (1, -1) for a in (1, 2))
    return 2.0 * J * s * nbrs


def magnetization(spins):
    """Total magnetization M = sum_i s_i for a batch (batch, L, L)."""
    return lattice_batch(spins, "Ising configurations").astype(np.float64).sum(axis=(1, 2))


def per_spin(spins, energies=None, J=1.0):
    """(E/N, m) of each configuration of a batch (batch, L, L), shape (batch, 2) float64: the
    labels of the GANs; `energies` may be given when already known."""
    s = lattice_batch(spins, "Ising configurations")
    n = s.shape[1] * s.shape[2]
    e = energy(s, J) if energies is None else np.asarray(energies, np.float64)
    return np.stack([e / n, s.reshape(len(s), -1).mean(axis=1)], axis=1)


def energy_tf(spins, J=1.0):
    """TensorFlow version of `energy` for a float tensor of shape (batch, L, L)."""
    import tensorflow as tf

    s = tf.convert_to_tensor(spins)
    bonds = s * (tf.roll(s, -1, axis=1) + tf.roll(s, -1, axis=2))
    return -J * tf.reduce_sum(bonds, axis=[1, 2])


def flip_delta_tf(spins, J=1.0):
    """TensorFlow version of `flip_delta` for a float tensor of shape (batch, L, L)."""
    import tensorflow as tf

    s = tf.convert_to_tensor(spins)
    nbrs = tf.add_n([tf.roll(s, k, axis=a) for k in (1, -1) for a in (1, 2)])
    return 2.0 * J * s * nbrs


def energy_levels(L, J=1.0):
    """The energies a periodic L x L lattice (even L >= 4) can take, ascending.

    Levels are -2N, -2N+8, -2N+12, ..., 2N-8, 2N in steps of 4J (N = L^2): the neighbours of the
    extremes, +-(2N-4), are unreachable. 15 levels for L = 4, 63 for L = 8.
    """
    if L < 4 or L % 2:
        raise InputError(f"energy classes are defined for even L >= 4, got L={L}")
    n = L * L
    levels = np.arange(-2 * n, 2 * n + 1, 4)
    # the set is symmetric about 0, so for an antiferromagnet (J < 0) it is the same, ascending
    return abs(J) * levels[(levels != -2 * n + 4) & (levels != 2 * n - 4)].astype(np.float64)


def energy_class(energies, L, J=1.0):
    """Class index of each energy in `energy_levels(L)`; raises if an energy is not a level."""
    levels = energy_levels(L, J)
    energies = np.asarray(energies, np.float64)
    idx = np.clip(np.searchsorted(levels, energies), 0, len(levels) - 1)
    if not np.allclose(levels[idx], energies):
        raise InputError("energies that are not Ising levels of this lattice cannot be classes")
    return idx


def all_configurations(L):
    """Every configuration of an L x L lattice (L <= 4: 65,536 for 4 x 4), int8 (2^N, L, L)."""
    if L > 4:
        raise InputError(f"enumerating 2^{L * L} configurations is not feasible; use L <= 4")
    n = L * L
    bits = (np.arange(2 ** n)[:, None] >> np.arange(n)[::-1]) & 1
    return (2 * bits - 1).astype(np.int8).reshape(-1, L, L)


def onsager_energy(beta, J=1.0):
    """Exact energy per spin of the infinite square-lattice ferromagnet at inverse temperature
    `beta` (Onsager 1944): u = -J coth(2bJ) [1 + (2/pi)(2 tanh^2(2bJ) - 1) K(q)], with
    q = (2 sinh(2bJ) / cosh^2(2bJ))^2 and K the complete elliptic integral of the first kind.
    Negative `beta` (a population inversion) gives -u(|beta|); beta = 0 gives 0."""
    from scipy.special import ellipk

    x = 2.0 * np.asarray(beta, np.float64) * J
    safe = np.where(x == 0, 1.0, x)
    q = np.minimum((2 * np.sinh(safe) / np.cosh(safe) ** 2) ** 2, 1.0)
    bracket = 1 + 2 / np.pi * (2 * np.tanh(safe) ** 2 - 1) * np.where(q < 1, ellipk(q), 0.0)
    return np.where(x == 0, 0.0, -J * bracket / np.tanh(safe))


def canonical_spread(energy, sites, J=1.0):
    """Standard deviation of E/N in the canonical ensemble of `sites` spins whose mean energy per
    spin is `energy` (|energy| < 2J): sqrt(-du/dbeta / N) at the beta where Onsager's u(beta)
    equals it (infinite-lattice u; near T_c the finite lattice's spread is smaller). What a
    sampler that sets the temperature, not the energy, misses a requested E/N by."""
    from scipy.optimize import brentq

    energy = np.atleast_1d(np.asarray(energy, np.float64))
    if np.any(np.abs(energy) >= 2 * abs(J)):
        raise InputError("canonical spreads exist for -2J < E/N < 2J")
    betas = np.array([brentq(lambda b: onsager_energy(b, J) - e, -40 / abs(J), 40 / abs(J),
                             xtol=1e-13) for e in energy])
    h = 1e-6
    slope = (onsager_energy(betas + h, J) - onsager_energy(betas - h, J)) / (2 * h)
    return np.sqrt(-slope / sites)


def upscale(spins, size):
    """Lossless upscaling: repeat every row and column so an L x L lattice becomes size x size."""
    s = lattice_batch(spins, "Ising configurations")
    L = s.shape[1]
    if size % L:
        raise InputError(f"cannot upscale {L}x{L} to {size}x{size}: {size} is not a multiple of {L}")
    k = size // L
    return np.repeat(np.repeat(s, k, axis=1), k, axis=2)


