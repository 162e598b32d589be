"""Pieces shared by the Monte Carlo kernels (Metropolis, Potts, targeted sampling).

* a per-chain xorshift128+ generator (`next_u64`, `uniform`, `below`) seeded by splitmix64, so
  every chain has its own reproducible stream whatever the thread count;
* `flip`, the single-spin update that keeps each chain's table of flip energies
  delta_i = 2 s_i (sum_j J_ij s_j + h_i) exact by touching only the flipped spin's neighbours.
"""

import numba
import numpy as np


@numba.njit(inline="always")
def next_u64(state, r):
    """xorshift128+ step on chain r's state (row r of a (chains, 2) uint64 array)."""
    s1 = state[r, 0]
    s0 = state[r, 1]
    state[r, 0] = s0
    s1 ^= s1 << np.uint64(23)
    s1 ^= s1 >> np.uint64(17)
    s1 ^= s0 ^ (s0 >> np.uint64(26))
    state[r, 1] = s1
    return s1 + s0


@numba.njit(inline="always")
def uniform(state, r):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return (next_u64(state, r) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def below(state, r, n):
    """Uniform integer in [0, n) (Lemire's multiply-shift on the top 32 bits)."""
    return np.int64(((next_u64(state, r) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@numba.njit(inline="always")
def flip(s, d, i, indptr, indices, weights):
    """Flip spin i of configuration s and update the flip-energy table d; returns the new s_i."""
    si = -s[i]
    s[i] = si
    d[i] = -d[i]
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        d[j] += 4.0 * weights[k] * si * s[j]
    return si


@numba.njit(cache=True)
def _splitmix(seed, n):
    out = np.empty((n, 2), np.uint64)
    x = np.uint64(seed)
    for r in range(n):
        for w in range(2):
            x += np.uint64(0x9E3779B97F4A7C15)
            z = x
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            out[r, w] = z ^ (z >> np.uint64(31))
    return out


def seed_states(seed, n):
    """n independent generator states from one seed (an int, None for fresh entropy)."""
    return _splitmix(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0], n)


def replica_streams(seed, n):
    """(states for n replica streams, a NumPy Generator for their initial configurations)."""
    states = seed_states(seed, n + 1)
    return states[:-1].copy(), np.random.default_rng(states[-1])
