"""Targeted sampling (thesis Appendix B): configurations spread evenly over the energy range.

A targeted-sampling (TS) run is Metropolis with the Boltzmann factor replaced by a Gaussian
envelope around a target energy: a single flip that brings E closer to E_target is accepted,
any other is accepted with probability exp(-(E_B - E_A)^2 / kT). Every `t_corr` proposals the
current configuration is filed into its energy bin until the bin holds `cap` examples.

`fill_bins` runs the thesis's three phases:

1. discovery: 4 random starts each targeting the lowest and highest bin centres and their
   midpoint, kT = 0.1;
2. energy sweep: 10 then 100 evenly spaced targets, kT = 0.01;
3. bin filling: every partly filled bin is targeted from one of its own configurations with
   N_iter = 2 t_corr proposals, N_iter doubling each round, until every bin holds `cap` or
   nothing. A bin still empty after the sweep is targeted too, from the chain's current state,
   for `empty_rounds` rounds; if that finds nothing it holds no reachable energy (a gap of the
   spectrum) and stays empty.

Three departures from the thesis keep the bins diverse. A chain at its target with no
zero-energy flip is frozen at kT = 0.01 (every other move is refused) and used to fill its bin
with copies of one lattice (8x8 Ising: 6 distinct configurations among 316 at E = -92; whole
levels then fell on one side of the SHA3 split, leaving E = -100 with 3 training examples and
the classifier calling that level -96). So a configuration the chain has not moved from, or
one among the last 16 filed in its bin, is skipped (up to 16 times in a row, so that levels of
few configurations, such as the ground states, still fill, with copies); and phase 3 runs at
kT = the median squared flip energy of a random configuration (16 for Ising, where a +-4 move
is then accepted with probability 0.37), so a chain walks around its target and revisits it
through new configurations. Only a bin that a walking run of round `WALK_ROUNDS` or later adds
nothing to (the narrow bins at the ends of a long-range spectrum) is filled at the thesis's
kT = 0.01, with copies: switching every bin to 0.01 filled the 8x8 Ising end levels with copies
of a few lattices, which the SHA3 split then put on one side (E = +128 only in the test split).
And without a field, filing spins flip globally at random (E(-s) = E(s)), so the copies of a
level of few configurations are shared between s and -s (the two Neel states at E = +128).

`sample` splits the work over processes with independent seeds and merges the bins.
"""

import concurrent.futures
import dataclasses
import multiprocessing
import sys

import numba
import numpy as np

from tfphys.errors import InputError
from tfphys.physics.spins.flips import below, flip, seed_states, uniform


WALK_ROUNDS = 12  # phase-3 rounds at the walking kT before a bin it stops filling gets 0.01
REPEATS = 16  # recent filings a new one must differ from; skips in a row before a copy


@numba.njit(cache=True)
def _recent(filed, count, s):
    """Whether s equals one of the last `REPEATS` configurations filed in a bin."""
    for k in range(max(0, count - REPEATS), count):
        if np.all(filed[k] == s):
            return True
    return False


@numba.njit(cache=True)
def _ts_run(s, d, e, indptr, indices, weights, target, kT, n_iter, t_corr, state, edges,
            configs, energies, counts, distinct, global_flip):
    """One TS run of n_iter proposals on configuration s (energy e, flip table d); returns e.
    Files the configuration every t_corr proposals. With `distinct`, a configuration the chain
    has not moved from since the last filing (or since the run began: a start taken from a bin
    is filed already), or one among the last `REPEATS` filed in its bin (a chain stepping away
    and back), is skipped, up to `REPEATS` times in a row: a level with few configurations (the
    ground states) or a chain frozen at its target still fills, with copies, more slowly.
    With `global_flip` (bin filling without a field: E(-s) = E(s), the flip table unchanged;
    `around`'s time series keep their sign) every filing chance first flips all spins with
    probability 1/2, so a level's copies are shared between s and -s (8x8 Ising E = +128: both
    Neel states, which the SHA3 split puts on opposite sides; a chain only ever revisits the
    one it found)."""
    n = s.shape[0]
    n_bins = counts.shape[0]
    cap = configs.shape[1]
    moved, skipped = not distinct, 0
    for it in range(1, n_iter + 1):
        i = below(state, 0, n)
        di = d[i]
        if abs(e + di - target) < abs(e - target) or uniform(state, 0) < np.exp(-di * di / kT):
            flip(s, d, i, indptr, indices, weights)
            e += di
            moved = True
        if it % t_corr == 0 and edges[0] <= e <= edges[n_bins]:
            if global_flip and uniform(state, 0) < 0.5:
                for k in range(n):
                    s[k] = -s[k]
            b = min(np.searchsorted(edges, e, side="right") - 1, n_bins - 1)
            if counts[b] >= cap:
                continue
            if distinct and skipped < REPEATS and (not moved or _recent(configs[b], counts[b], s)):
                skipped += 1
                continue
            skipped = 0
            configs[b, counts[b]] = s
            energies[b, counts[b]] = e
            counts[b] += 1
            moved = not distinct
    return e


@dataclasses.dataclass
class Bins:
    """Sampled configurations per energy bin: configs (bins, cap, *shape), energies (bins, cap),
    counts (bins,), the bin edges, and the number of proposals made."""

    configs: np.ndarray
    energies: np.ndarray
    counts: np.ndarray
    edges: np.ndarray
    proposals: int

    def flat(self):
        """(configs, energies) of every filled slot, bins in order."""
        keep = np.arange(self.configs.shape[1])[None, :] < self.counts[:, None]
        return self.configs[keep], self.energies[keep]


def _one_bin(n, cap):
    """Bins with a single bin over every energy, holding up to `cap` configurations of n spins
    (cap 0: the run files nothing)."""
    return Bins(np.zeros((1, cap, n), np.int8), np.zeros((1, cap)), np.zeros(1, np.int64),
                np.array([-1e300, 1e300]), 0)


def level_edges(levels):
    """Bin edges that give every level of a discrete spectrum (e.g. Ising) its own bin."""
    levels = np.sort(np.asarray(levels, np.float64))
    if len(levels) < 2:
        raise InputError("a discrete spectrum needs at least two levels")
    mid = 0.5 * (levels[1:] + levels[:-1])
    return np.concatenate([[2 * levels[0] - mid[0]], mid, [2 * levels[-1] - mid[-1]]])


class _Chain:
    """One TS chain: configuration, flip table and energy of a `Couplings` model."""

    def __init__(self, couplings, spins, state):
        self.c, self.state = couplings, state
        self.set(spins)

    def set(self, spins):
        self.s = np.ascontiguousarray(spins, np.int8).reshape(-1).copy()
        self.d = self.c.flip_delta(self.s.reshape(self.c.shape))[0]
        self.e = float(self.c.energy(self.s.reshape(self.c.shape))[0])

    def run(self, target, kT, n_iter, t_corr, bins, distinct=True):
        self.e = _ts_run(self.s, self.d, self.e, self.c.indptr, self.c.indices, self.c.weights,
                         float(target), float(kT), int(n_iter), int(t_corr), self.state,
                         bins.edges, bins.configs, bins.energies, bins.counts, distinct,
                         distinct and not np.any(self.c.field))
        bins.proposals += int(n_iter)


def fill_bins(couplings, edges, cap, t_corr=None, n_iter=None, seed=None, max_rounds=24,
              empty_rounds=4, progress=None):
    """Fill `len(edges) - 1` energy bins with `cap` configurations each (one process).

    `n_iter` is the length of discovery and sweep runs (default 20 t_corr); `progress`, if
    given, is called with the total count after each run (for progress bars).
    """
    edges = np.asarray(edges, np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise InputError("bin edges must be a strictly increasing 1-D array of >= 2 values")
    n = couplings.n
    t_corr = n if t_corr is None else int(t_corr)
    n_iter = 20 * t_corr if n_iter is None else int(n_iter)
    n_bins = len(edges) - 1
    bins = Bins(np.zeros((n_bins, cap, n), np.int8), np.zeros((n_bins, cap)),
                np.zeros(n_bins, np.int64), edges, 0)
    state = seed_states(seed, 1)
    rng = np.random.default_rng(state[0])
    centers = 0.5 * (edges[1:] + edges[:-1])
    e_min, e_max = centers[0], centers[-1]
    chain = _Chain(couplings, rng.choice(np.array([-1, 1], np.int8), n), state)
    fill_kT = float(np.median(chain.d ** 2)) or float(np.mean(chain.d ** 2)) or 0.01
    report = progress or (lambda total: None)

    for target in (e_min, e_max, 0.5 * (e_min + e_max)):  # phase I: discovery
        for _ in range(4):
            chain.set(rng.choice(np.array([-1, 1], np.int8), n))
            chain.run(target, 0.1, n_iter, t_corr, bins)
        report(int(bins.counts.sum()))
    for n_targets in (10, 100):  # phase II: energy sweep
        for target in np.linspace(e_min, e_max, n_targets):
            chain.run(target, 0.01, n_iter, t_corr, bins)
        report(int(bins.counts.sum()))
    iters = 2 * t_corr  # phase III: bin filling
    stalled = np.zeros(n_bins, bool)  # bins a long walking run no longer adds to
    for round_ in range(max_rounds):
        # partly filled bins until full; still-empty bins get `empty_rounds` tries from the
        # chain's current state before they count as holding no reachable energy
        todo = np.flatnonzero((bins.counts < cap) & ((bins.counts > 0) | (round_ < empty_rounds)))
        if not len(todo):
            break
        for b in todo:
            if bins.counts[b]:
                chain.set(bins.configs[b, rng.integers(bins.counts[b])])
            before = bins.counts[b]
            chain.run(centers[b], 0.01 if stalled[b] else fill_kT, iters, t_corr, bins)
            stalled[b] |= round_ >= WALK_ROUNDS and bins.counts[b] == before
        report(int(bins.counts.sum()))
        iters *= 2
    bins.configs = bins.configs.reshape((n_bins, cap) + tuple(couplings.shape))
    return bins


def discover_range(couplings, n_iter=None, seed=None):
    """(E_min, E_max) reached by TS runs targeting -1e10 and +1e10 (thesis, Appendix B), for
    models whose energy range is not known in advance. A greedy descent: the extremes found are
    as low/high as the runs reach, not proven global."""
    n = couplings.n
    n_iter = 200 * n if n_iter is None else int(n_iter)
    probe = _one_bin(n, 0)
    state = seed_states(seed, 1)
    rng = np.random.default_rng(state[0])
    found = []
    for target in (-1e10, 1e10):
        ends = []
        for _ in range(4):
            chain = _Chain(couplings, rng.choice(np.array([-1, 1], np.int8), n), state)
            chain.run(target, 0.1, n_iter, n, probe)
            ends.append(chain.e)
        found.append(min(ends) if target < 0 else max(ends))
    return tuple(found)


def around(couplings, target, count, kT=16.0, chains=64, t_corr=None, burn_in=None, seed=None):
    """`count` configurations from TS chains that all target one energy (the 2017 GAN's
    low- and high-energy sets, targets -1.3 L^2 and +1.3 L^2): `chains` chains start at random,
    run `burn_in` proposals (default 20 t_corr), then file a configuration every `t_corr`
    proposals (default N). Energies spread around the target as far as the Gaussian envelope
    kT lets moves away from it through; returns (configs (count, *shape), energies)."""
    n = couplings.n
    t_corr = n if t_corr is None else int(t_corr)
    burn_in = 20 * t_corr if burn_in is None else int(burn_in)
    per_chain = -(-count // chains)
    state = seed_states(seed, 1)
    rng = np.random.default_rng(state[0])
    ignore, keep = _one_bin(n, 0), _one_bin(n, chains * per_chain)
    for _ in range(chains):
        chain = _Chain(couplings, rng.choice(np.array([-1, 1], np.int8), n), state)
        chain.run(target, kT, burn_in, t_corr, ignore)
        chain.run(target, kT, per_chain * t_corr, t_corr, keep, distinct=False)  # a time series
    pick = rng.permutation(chains * per_chain)[:count]
    return keep.configs[0, pick].reshape((count,) + tuple(couplings.shape)), keep.energies[0, pick]


def _worker(args):
    return fill_bins(*args)


def sample(couplings, edges, cap, processes=1, t_corr=None, n_iter=None, seed=None):
    """`fill_bins` over `processes` processes with independent seeds; bins merged to `cap`."""
    if processes <= 1:
        return fill_bins(couplings, edges, cap, t_corr, n_iter, seed)
    seeds = np.random.SeedSequence(seed).spawn(processes)
    share = -(-cap // processes)
    jobs = [(couplings, edges, share, t_corr, n_iter, int(s.generate_state(1)[0])) for s in seeds]
    # fork is fast and safe while TensorFlow (and its thread pools) is not loaded; spawn otherwise
    context = "spawn" if "tensorflow" in sys.modules else "fork"
    with concurrent.futures.ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context(context)) as pool:
        parts = list(pool.map(_worker, jobs))
    configs = np.zeros((len(edges) - 1, cap) + parts[0].configs.shape[2:], np.int8)
    energies = np.zeros((len(edges) - 1, cap))
    counts = np.zeros(len(edges) - 1, np.int64)
    for part in parts:  # append each worker's filled slots, bin by bin, up to `cap`
        for b in np.flatnonzero(part.counts):
            take = min(int(part.counts[b]), cap - int(counts[b]))
            configs[b, counts[b]:counts[b] + take] = part.configs[b, :take]
            energies[b, counts[b]:counts[b] + take] = part.energies[b, :take]
            counts[b] += take
    return Bins(configs, energies, counts, np.asarray(edges, np.float64),
                sum(p.proposals for p in parts))
