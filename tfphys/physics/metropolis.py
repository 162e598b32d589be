"""Metropolis single-spin-flip Monte Carlo for any `Couplings` model, many replicas at once.

The kernel is compiled with Numba. Each replica keeps the energy change of flipping every spin
(2 s_i (sum_j J_ij s_j + h_i)) and updates only the neighbours' entries after a flip, so a
proposal costs O(1) plus O(degree) on acceptance. Random numbers come from a per-replica
xorshift128+ stream (`flips`) seeded from one integer: runs are reproducible for any thread count.
Moves whose Boltzmann factor is below 1e-19 are rejected without drawing a number.

Two sweep orders: "random" (a sweep is N proposals at random sites, as the thesis does) and
"sequential" (each site in turn, as dwave-samplers' simulated annealing does).
"""

import numba
import numpy as np

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.engine import Engine
from tfphys.physics.flips import below, flip, replica_streams, uniform

ORDERS = ("random", "sequential")
_SKIP = 44.0  # exp(-44) < 1e-19: below the resolution of a 53-bit uniform draw at this scale


@numba.njit(cache=True, parallel=True)
def _run(spins, delta, energy, magnet, indptr, indices, weights, betas, sequential, state,
         out_energy, out_magnet, out_accept):
    n_rep, n = spins.shape
    for r in numba.prange(n_rep):
        s = spins[r]
        d = delta[r]
        e = energy[r]
        m = magnet[r]
        for sweep in range(betas.shape[0]):
            beta = betas[sweep]
            limit = _SKIP / beta if beta > 0.0 else np.inf
            accepted = 0
            for t in range(n):
                i = t if sequential else below(state, r, n)
                di = d[i]
                if di >= limit or (di > 0.0 and uniform(state, r) >= np.exp(-beta * di)):
                    continue
                si = flip(s, d, i, indptr, indices, weights)
                e += di
                m += 2 * si
                accepted += 1
            out_energy[r, sweep] = e
            out_magnet[r, sweep] = m
            out_accept[r, sweep] = accepted / n
        energy[r] = e
        magnet[r] = m


class Metropolis(Engine):
    """Replicas of one model evolving under Metropolis dynamics.

    >>> mc = Metropolis(ising(8), n_replicas=64, seed=1)
    >>> trace = mc.run(np.full(1000, 1 / 2.5))   # 1000 sweeps at T = 2.5
    >>> mc.spins.shape, trace.energy.shape
    ((64, 8, 8), (64, 1000))
    """

    def __init__(self, couplings, n_replicas=1, seed=None, order="random", spins=None):
        if order not in ORDERS:
            raise InputError(f"unknown sweep order {order!r}; choose one of {ORDERS}")
        n_replicas = checks.integer("n_replicas", n_replicas, low=1)
        self.couplings = couplings
        self.order = order
        self._state, rng = replica_streams(seed, n_replicas)
        if spins is None:
            spins = rng.choice(np.array([-1, 1], np.int8), size=(n_replicas, couplings.n))
        self.spins = spins

    @property
    def spins(self):
        """Current configurations, shape (replicas, *couplings.shape), int8."""
        return self._spins.reshape((len(self._spins),) + self.couplings.shape)

    @spins.setter
    def spins(self, spins):
        s = np.asarray(spins)
        s = s.reshape(len(s), -1) if s.ndim > 1 else s[None]
        if s.shape != (len(self._state), self.couplings.n) or not np.all(np.abs(s) == 1):
            raise InputError(f"spins must be +-1 with shape ({len(self._state)}, "
                             f"{', '.join(map(str, self.couplings.shape))})")
        self._spins = np.ascontiguousarray(s, dtype=np.int8)
        self._delta = self.couplings.flip_delta(self._spins.reshape(self.spins.shape))
        self._energy = self.couplings.energy(self.spins)
        self._magnet = self._spins.sum(axis=1).astype(np.int64)

    @property
    def n(self):
        """Spins per replica."""
        return self.couplings.n

    @property
    def energy(self):
        """Current energy of each replica (tracked incrementally), shape (replicas,)."""
        return self._energy.copy()

    def _sweeps(self, betas, trace):
        c = self.couplings
        _run(self._spins, self._delta, self._energy, self._magnet, c.indptr, c.indices,
             c.weights, betas, self.order == "sequential", self._state, trace.energy,
             trace.magnetization, trace.acceptance)
