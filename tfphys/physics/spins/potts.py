"""Planar (continuous) Potts model of the thesis, Eq. (2): H = J sum_<ij> cos(s_i - s_j),
angles s_i in [0, pi) on an L x L torus with nearest-neighbour bonds: energies (NumPy, TF) and
a Metropolis sampler."""

import numba
import numpy as np

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.engine import Engine
from tfphys.physics.spins.flips import below, replica_streams, uniform
from tfphys.physics.spins.lattice import lattice_batch


def energy(angles, J=1.0):
    """H = J sum_<ij> cos(s_i - s_j) for a batch (batch, L, L) of angles."""
    a = lattice_batch(angles, "Potts configurations", binary=False).astype(np.float64)
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


@numba.njit(cache=True, parallel=True)
def _metropolis(angles, energy, J, betas, state, out_energy, out_accept):
    n_rep, L, _ = angles.shape
    for r in numba.prange(n_rep):
        a = angles[r]
        e = energy[r]
        for sweep in range(betas.shape[0]):
            beta = betas[sweep]
            accepted = 0
            for _ in range(L * L):
                site = below(state, r, L * L)
                x, y = site // L, site % L
                new = np.pi * uniform(state, r)
                old = a[x, y]
                d = 0.0
                for nx, ny in ((x + 1) % L, y), ((x - 1) % L, y), (x, (y + 1) % L), (x, (y - 1) % L):
                    d += np.cos(new - a[nx, ny]) - np.cos(old - a[nx, ny])
                d *= J
                if d <= 0.0 or uniform(state, r) < np.exp(-beta * d):
                    a[x, y] = new
                    e += d
                    accepted += 1
            out_energy[r, sweep] = e
            out_accept[r, sweep] = accepted / (L * L)
        energy[r] = e


class PottsMetropolis(Engine):
    """Metropolis for the planar Potts model: a move redraws one angle uniformly in [0, pi).

    An `Engine` with the conventions of `metropolis.Metropolis` (one sweep = L^2 proposals at
    random sites, per-replica reproducible streams); `spins` are the angles (replicas, L, L),
    and the trace's magnetization is NaN (angles have no spin sum).
    """

    magnetization_dtype = np.float64

    def __init__(self, L, n_replicas=1, J=1.0, seed=None, angles=None):
        if checks.integer("L", L) < 3:
            raise InputError(f"the planar Potts lattice needs L >= 3, got {L}")
        n_replicas = checks.integer("n_replicas", n_replicas, low=1)
        self.L, self.J = L, checks.real("J", J)
        self._state, rng = replica_streams(seed, n_replicas)
        if angles is None:
            angles = random_configurations(n_replicas, L, rng)
        self._spins = np.ascontiguousarray(
            lattice_batch(angles, "Potts configurations", binary=False).astype(np.float64))
        if self._spins.shape != (n_replicas, L, L):
            raise InputError(f"angles must have shape ({n_replicas}, {L}, {L})")
        self._energy = energy(self._spins, self.J)

    def _sweeps(self, betas, trace):
        _metropolis(self._spins, self._energy, self.J, betas, self._state, trace.energy,
                    trace.acceptance)
        trace.magnetization[:] = np.nan
