"""How often an annealer finds a proven ground state, and the thesis's n99.

An episode (one anneal of `replicas` replicas) succeeds when any replica ends at the proven
ground energy. From the success probability p over runs x instances,
n99 = log(0.01) / log(1 - p) * (1 - p) (thesis Eq. after (3)): the episodes needed to be 99 %
sure of one success, counted as in the thesis; its 95 % interval comes from the Clopper-Pearson
interval of p. Baselines at equal sweeps and replicas: classic SA with a schedule linear in
beta (`linear_sa`, the best (beta_i, beta_f) of a grid via `best_linear`) and dwave-samplers'
simulated annealing (`dwave_sa`, its default geometric schedule or a given beta range).
"""

import dataclasses

import numpy as np
import scipy.stats

from tfphys import checks
from tfphys.physics import annealing
from tfphys.physics.metropolis import Metropolis


def n99(p):
    """Episodes to be 99 % sure of one success: 0 at p = 1, infinite at p = 0."""
    p = np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(0.01) / np.log1p(-p) * (1 - p)
    return np.where(p >= 1, 0.0, np.where(p <= 0, np.inf, value))


def clopper_pearson(successes, trials, confidence=0.95):
    """Exact binomial interval (low, high) of the success probability."""
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else scipy.stats.beta.ppf(alpha / 2, successes,
                                                          trials - successes + 1)
    high = 1.0 if successes == trials else scipy.stats.beta.ppf(1 - alpha / 2, successes + 1,
                                                                trials - successes)
    return float(low), float(high)


@dataclasses.dataclass
class Score:
    """Successes of `trials` episodes, p, n99 and the 95 % interval of n99."""

    successes: int
    trials: int

    @property
    def p(self):
        return self.successes / self.trials

    @property
    def n99(self):
        return float(n99(self.p))

    @property
    def n99_interval(self):
        low, high = clopper_pearson(self.successes, self.trials)
        return float(n99(high)), float(n99(low))

    def figures(self):
        return {"p": self.p, "n99": self.n99, "n99_interval": list(self.n99_interval),
                "episodes": self.trials}


def succeeded(final_energies, ground_energy, tolerance=1e-6):
    """Whether any replica's energy is the ground energy (relative tolerance)."""
    return bool(np.min(final_energies) <= ground_energy + tolerance * max(1.0, abs(ground_energy)))


def linear_sa(model, beta_i, beta_f, sweeps=4000, replicas=64, seed=None, order="random"):
    """Final energies of classic SA: beta linear from beta_i to beta_f over `sweeps`."""
    engine = Metropolis(model, replicas, seed=seed, order=order)
    return annealing.anneal(engine, annealing.linear(beta_i, beta_f, sweeps)).min_energy


def bqm(model):
    """A `Couplings` model as a dimod BinaryQuadraticModel (spin variables, same energies)."""
    import dimod

    coo = model.matrix.tocoo()
    upper = coo.row < coo.col
    return dimod.BinaryQuadraticModel(
        {i: -float(h) for i, h in enumerate(model.field)},
        {(int(i), int(j)): -float(w) for i, j, w in zip(coo.row[upper], coo.col[upper],
                                                       coo.data[upper])},
        model.offset, dimod.SPIN)


def dwave_sa(model, sweeps=4000, replicas=64, seed=None, beta_range=None):
    """Final energies of dwave-samplers' simulated annealing (sequential sweeps; geometric
    schedule over `beta_range`, by default the range it picks from the couplings)."""
    from dwave.samplers import SimulatedAnnealingSampler

    result = SimulatedAnnealingSampler().sample(bqm(model), num_reads=replicas, num_sweeps=sweeps,
                                                beta_range=beta_range, seed=seed)
    return result.record.energy


def score(anneal_fn, instances, runs, seed=0):
    """`Score` of `anneal_fn(model, seed) -> final energies` over `runs` anneals of each
    (model, ground energy) in `instances`."""
    runs = checks.integer("runs", runs, low=1)
    seeds = np.random.SeedSequence(seed).generate_state(runs * len(instances)) >> 1  # < 2^31
    wins = 0
    for k, (model, ground) in enumerate(instances):
        for run in range(runs):
            wins += succeeded(anneal_fn(model, int(seeds[k * runs + run])), ground)
    return Score(wins, runs * len(instances))


def best_linear(instances, runs, grid_i=(0.01, 0.1, 0.3), grid_f=(1.0, 2.0, 3.0, 5.0),
                sweeps=4000, replicas=64, seed=0, order="random"):
    """((beta_i, beta_f), `Score`) of the linear schedule with the highest success rate."""
    best = None
    for beta_i in grid_i:
        for beta_f in grid_f:
            result = score(lambda m, s: linear_sa(m, beta_i, beta_f, sweeps, replicas, s, order),
                           instances, runs, seed)
            if best is None or result.p > best[1].p:
                best = ((beta_i, beta_f), result)
    return best
