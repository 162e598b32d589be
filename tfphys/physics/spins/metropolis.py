"""Metropolis single-spin-flip Monte Carlo for any `Couplings` model, many replicas at once.

The kernel is compiled with Numba. Each replica keeps the energy change of flipping every spin
(2 s_i (sum_j J_ij s_j + h_i)) and updates only the neighbours' entries after a flip, so a
proposal costs O(1) plus O(degree) on acceptance. Random numbers come from a per-replica
xorshift128+ stream (`flips`) seeded from one integer: runs are reproducible for any thread count.
Moves whose Boltzmann factor is below 1e-19 are rejected without drawing a number.

Three sweep orders: "random" (a sweep is N proposals at random sites, as the thesis does),
"sequential" (each site in turn, as dwave-samplers' simulated annealing does) and "replicas":
sequential sweeps with the replicas as the innermost, contiguous axis, so one site of every
replica is updated together in SIMD lanes (the fast order for many replicas, e.g. the 64 of
annealing). It draws a number for every proposal, downhill ones included, and computes the
Boltzmann factor with a polynomial exp (relative error < 2e-10), so its trajectories differ
from "sequential" while its statistics do not.
"""

import numba
import numpy as np

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.engine import Engine
from tfphys.physics.spins.flips import below, flip, replica_streams, uniform

ORDERS = ("random", "sequential", "replicas")
_SKIP = 44.0  # exp(-44) < 1e-19: below the resolution of a 53-bit uniform draw at this scale


@numba.njit(cache=True, parallel=True, nogil=True)
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


@numba.njit(inline="always")
def _boltzmann(t):
    """exp(-t) for 0 <= t <= 44 without a libm call, so the lane loop vectorizes: the Taylor
    polynomial of degree 8 at t / 256 (Horner), squared eight times (relative error < 2e-10,
    far below any Monte Carlo resolution)."""
    q = t * (1.0 / 256.0)
    p = 1.0 - q * (1.0 - q * (1 / 2 - q * (1 / 6 - q * (1 / 24 - q * (1 / 120 - q * (
        1 / 720 - q * (1 / 5040 - q / 40320)))))))
    for _ in range(8):
        p *= p
    return p


@numba.njit(cache=True, fastmath=True, error_model="numpy", nogil=True)
def _run_replicas(s, d, energy, magnet, lanes, indptr, indices, weights, betas, out_energy,
                  out_magnet, out_accept):
    """Sequential sweeps of all replicas at once: s, d (n, replicas) float64, lanes (2,
    replicas) uint64 xorshift128+ states (the per-replica streams of `flips`)."""
    n, R = s.shape
    f, h = np.empty(R), np.empty(R)
    accepted = np.zeros(R)
    x0, x1 = lanes[0], lanes[1]
    for sweep in range(betas.shape[0]):
        beta = betas[sweep]
        accepted[:] = 0.0
        for i in range(n):
            di = d[i]
            si = s[i]
            for r in range(R):  # draw, then accept (f = 1) or reject (f = 0) without branches
                a = x0[r]
                b = x1[r]
                x0[r] = b
                a ^= a << np.uint64(23)
                a ^= (a >> np.uint64(17)) ^ b ^ (b >> np.uint64(26))
                x1[r] = a
                u = np.float64((a + b) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                t = beta * di[r]
                ok = (t <= 0.0) | ((t < _SKIP) & (u < _boltzmann(min(max(t, 0.0), _SKIP))))
                f[r] = 1.0 if ok else 0.0
            for r in range(R):
                energy[r] += f[r] * di[r]
                magnet[r] -= 2.0 * f[r] * si[r]
                accepted[r] += f[r]
                h[r] = 4.0 * f[r] * si[r]  # a flip of s_i moves d_j by -4 J_ij s_i s_j
                g = 1.0 - 2.0 * f[r]
                si[r] *= g
                di[r] *= g
            for k in range(indptr[i], indptr[i + 1]):
                dj = d[indices[k]]
                sj = s[indices[k]]
                w = weights[k]
                for r in range(R):
                    dj[r] -= w * h[r] * sj[r]
        for r in range(R):
            out_energy[r, sweep] = energy[r]
            out_magnet[r, sweep] = magnet[r]
            out_accept[r, sweep] = accepted[r] / n


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

    def _sweeps(self, betas, trace):
        if self.order == "replicas":
            self._sweep_replicas(betas, trace)
            return
        c = self.couplings
        _run(self._spins, self._delta, self._energy, self._magnet, c.indptr, c.indices,
             c.weights, betas, self.order == "sequential", self._state, trace.energy,
             trace.magnetization, trace.acceptance)

    def _sweep_replicas(self, betas, trace):
        """The "replicas" order: state moved to (site, replica) layout, swept, moved back."""
        c = self.couplings
        s = np.ascontiguousarray(self._spins.T, np.float64)
        d = np.ascontiguousarray(self._delta.T)
        lanes = np.ascontiguousarray(self._state.T)
        magnet = self._magnet.astype(np.float64)
        out_magnet = np.empty(trace.magnetization.shape)
        _run_replicas(s, d, self._energy, magnet, lanes, c.indptr, c.indices, c.weights, betas,
                      trace.energy, out_magnet, trace.acceptance)
        self._spins = np.ascontiguousarray(s.T, np.int8)
        self._delta = np.ascontiguousarray(d.T)
        self._state = np.ascontiguousarray(lanes.T)
        self._magnet = np.rint(magnet).astype(np.int64)
        trace.magnetization[:] = np.rint(out_magnet)
