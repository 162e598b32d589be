"""Energies that are a sum over sites of a function of each site's (2c+1) x (2c+1) periodic
neighbourhood of +-1 spins, stored as a table over all 2^((2c+1)^2) window patterns.

An EDNN with focus 1 and context c on binary spins is exactly such a function: tabulating its
brain once (`tfphys.training.operators.window_energy`) turns Metropolis with the learned
operator into table look-ups. A flip changes only the (2c+1)^2 windows that contain the site,
and each replica keeps the code of every window, so a proposal costs (2c+1)^2 table look-ups
instead of a network call on the whole lattice.

Pattern codes: window cell (i, j) (row-major, i, j = 0 .. 2c) holds the spin at offset
(i - c, j - c) from the centre; its bit is 1 for spin +1 and sits at position (2c+1)^2 - 1 -
(i (2c+1) + j), so code 0 is the all-down window and `patterns(context)` lists them in order.
"""

import numba
import numpy as np

from tfphys.errors import InputError
from tfphys.physics.engine import Engine
from tfphys.physics.spins.flips import below, replica_streams, uniform
from tfphys.physics.spins.lattice import lattice_batch

MAX_BITS = 20  # 2^20 patterns, an 8 MB table: contexts 0 and 1 (c = 2 would need 2^25)


def patterns(context):
    """All window patterns of a context, shape (2^k, 2c+1, 2c+1) int8, k = (2c+1)^2."""
    size = 2 * context + 1
    k = size * size
    codes = np.arange(2 ** k, dtype=np.int64)[:, None]
    bits = (codes >> np.arange(k - 1, -1, -1)) & 1
    return (2 * bits - 1).astype(np.int8).reshape(-1, size, size)


def codes(spins, context):
    """Window code of every site, shape (batch, L, L), periodic boundaries."""
    s = lattice_batch(spins)
    size = 2 * context + 1
    out = np.zeros(s.shape, np.int64)
    for i in range(size):
        for j in range(size):
            up = np.roll(s, (context - i, context - j), axis=(1, 2)) > 0
            out |= up.astype(np.int64) << (size * size - 1 - (i * size + j))
    return out


@numba.njit(cache=True, parallel=True)
def _run(spins, window_codes, energy, magnet, table, context, betas, state, out_energy,
         out_magnet, out_accept):
    n_rep, L = spins.shape[0], spins.shape[1]
    size = 2 * context + 1
    for rep in numba.prange(n_rep):
        s = spins[rep]
        w = window_codes[rep]
        e = energy[rep]
        m = magnet[rep]
        for sweep in range(betas.shape[0]):
            beta = betas[sweep]
            accepted = 0
            for _ in range(L * L):
                site = below(state, rep, L * L)
                r, c = site // L, site % L
                # With k = context, the window centred at (r + a, c + b) holds the site in cell
                # (k - a, k - b), whose bit is size^2 - 1 - ((k - a) size + k - b) = (a + k) size + b + k.
                delta = 0.0
                for a in range(-context, context + 1):
                    for b in range(-context, context + 1):
                        code = w[(r + a) % L, (c + b) % L]
                        delta += table[code ^ (1 << ((a + context) * size + b + context))] - table[code]
                if delta > 0.0 and uniform(state, rep) >= np.exp(-beta * delta):
                    continue
                for a in range(-context, context + 1):
                    for b in range(-context, context + 1):
                        w[(r + a) % L, (c + b) % L] ^= 1 << ((a + context) * size + b + context)
                s[r, c] = -s[r, c]
                e += delta
                m += 2 * s[r, c]
                accepted += 1
            out_energy[rep, sweep] = e
            out_magnet[rep, sweep] = m
            out_accept[rep, sweep] = accepted / (L * L)
        energy[rep] = e
        magnet[rep] = m


class WindowEnergy:
    """E(s) = sum over sites of table[code of the site's window]."""

    def __init__(self, table, context):
        table = np.ascontiguousarray(table, np.float64).reshape(-1)
        k = (2 * context + 1) ** 2
        if context < 0 or k > MAX_BITS:
            raise InputError(f"window tables need 0 <= context and (2c+1)^2 <= {MAX_BITS} bits; "
                             f"c={context} gives {k}")
        if table.shape != (2 ** k,):
            raise InputError(f"a c={context} window table needs {2 ** k} finite values, got {table.size}")
        if not np.all(np.isfinite(table)):
            raise InputError(f"the c={context} window table has NaN/inf values")
        self.table, self.context = table, int(context)

    def energy(self, spins):
        """Energies of configurations (batch, L, L), float64 (batch,)."""
        return self.table[codes(spins, self.context)].sum(axis=(1, 2))


class WindowMetropolis(Engine):
    """Replicas of L x L spins under a `WindowEnergy`, random-site Metropolis sweeps (an
    `Engine`)."""

    def __init__(self, window_energy, L, n_replicas=1, seed=None):
        if L < 2 * window_energy.context + 1:
            raise InputError(f"L={L} is smaller than the window {2 * window_energy.context + 1}")
        self.model = window_energy
        self._state, rng = replica_streams(seed, n_replicas)
        self._spins = rng.choice(np.array([-1, 1], np.int8), size=(n_replicas, L, L))
        self._codes = codes(self._spins, window_energy.context)
        self._energy = window_energy.table[self._codes].sum(axis=(1, 2))
        self._magnet = self._spins.sum(axis=(1, 2)).astype(np.int64)

    def _sweeps(self, betas, trace):
        _run(self._spins, self._codes, self._energy, self._magnet, self.model.table,
             self.model.context, betas, self._state, trace.energy, trace.magnetization,
             trace.acceptance)
