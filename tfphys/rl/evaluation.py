"""How often an annealer finds a proven ground state, and the thesis's n99.

An episode (one anneal of `replicas` replicas) succeeds when any replica ends at the proven
ground energy. From the success probability p over runs x instances,
n99 = log(0.01) / log(1 - p) * (1 - p) (thesis Eq. after (3)): the episodes needed to be 99 %
sure of one success, counted as in the thesis; its 95 % interval comes from the Clopper-Pearson
interval of p. Baselines at equal sweeps and replicas: classic SA with a schedule linear in
beta (`linear_sa`, the best (beta_i, beta_f) of a grid via `best_linear`), any fixed schedule
(`schedule_sa`: the replay of a policy's average schedule) and dwave-samplers' simulated
annealing (`dwave_sa`, its default geometric schedule or a given beta range; the best range
of a grid via `best_geometric`). Every annealer is scored on its final energies.
"""

import dataclasses

import numpy as np
import scipy.stats

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics import annealing
from tfphys.physics.spins.metropolis import Metropolis


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
    """Successes of `trials` episodes, p, n99 and the 95 % interval of n99; `per_instance`
    (successes of each instance over `runs` episodes) when known, for `subset`."""

    successes: int
    trials: int
    per_instance: np.ndarray = None
    runs: int = None

    @classmethod
    def of(cls, per_instance, runs):
        per_instance = np.asarray(per_instance, np.int64)
        return cls(int(per_instance.sum()), runs * len(per_instance), per_instance, runs)

    def subset(self, mask):
        """The `Score` of the instances where `mask` is true."""
        return Score.of(self.per_instance[np.asarray(mask, bool)], self.runs)

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
        if self.trials == 0:
            return {"episodes": 0}
        return {"p": self.p, "n99": self.n99, "n99_interval": list(self.n99_interval),
                "episodes": self.trials}


def succeeded(final_energies, ground_energy, tolerance=1e-6):
    """Whether any replica's energy is the ground energy (relative tolerance)."""
    return bool(np.min(final_energies) <= ground_energy + tolerance * max(1.0, abs(ground_energy)))


def ground_energy(model, max_spins=24):
    """The lowest energy of a small model by enumerating its 2^n configurations."""
    if model.n > max_spins:
        raise InputError(f"enumerating 2^{model.n} configurations is not feasible; prove ground "
                         f"states with bin/ground_states")
    best, bits = np.inf, np.arange(model.n)
    for start in range(0, 2 ** model.n, 2 ** 16):
        codes = np.arange(start, min(start + 2 ** 16, 2 ** model.n))[:, None]
        best = min(best, float(model.energy(((codes >> bits) & 1) * 2 - 1).min()))
    return best


def schedule_sa(model, betas, replicas=64, seed=None, order="random", spins=None):
    """Final energies of Metropolis annealing along `betas` (one per sweep), from `spins` or
    random replicas."""
    engine = Metropolis(model, replicas, seed=seed, order=order, spins=spins)
    return annealing.anneal(engine, betas).energy


def linear_sa(model, beta_i, beta_f, sweeps=4000, replicas=64, seed=None, order="random",
              spins=None):
    """Final energies of classic SA: beta linear from beta_i to beta_f over `sweeps`."""
    return schedule_sa(model, annealing.linear(beta_i, beta_f, sweeps), replicas, seed, order,
                       spins)


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


def successes(anneal_fn, instances, runs, seed=0):
    """Successes of each (model, ground energy) in `instances` over `runs` anneals
    `anneal_fn(model, seed) -> final energies` (an int array, one per instance)."""
    runs = checks.integer("runs", runs, low=1)
    seeds = np.random.SeedSequence(seed).generate_state(runs * len(instances)) >> 1  # < 2^31
    return np.array([sum(succeeded(anneal_fn(model, int(seeds[k * runs + run])), ground)
                         for run in range(runs)) for k, (model, ground) in enumerate(instances)])


def score(anneal_fn, instances, runs, seed=0):
    """`Score` of `anneal_fn(model, seed) -> final energies` over `runs` anneals of each
    (model, ground energy) in `instances`."""
    return Score.of(successes(anneal_fn, instances, runs, seed), runs)


def _best(make, instances, runs, grid_i, grid_f, seed):
    """((beta_i, beta_f), `Score`) of the grid point whose annealer `make(beta_i, beta_f)`
    succeeds most often (the first of equals)."""
    best = None
    for beta_i in grid_i:
        for beta_f in grid_f:
            if beta_f < beta_i:  # heating is not annealing
                continue
            result = score(make(beta_i, beta_f), instances, runs, seed)
            if best is None or result.p > best[1].p:
                best = ((beta_i, beta_f), result)
    if best is None:
        raise InputError("the schedule grid has no beta_f at or above a beta_i")
    return best


def best_linear(instances, runs, grid_i=(0.01, 0.1, 0.3), grid_f=(1.0, 2.0, 3.0, 5.0),
                sweeps=4000, replicas=64, seed=0, order="random", start=None):
    """((beta_i, beta_f), `Score`) of the linear schedule with the highest success rate;
    `start(model) -> spins (n,)` sets every replica's first configuration (default random)."""
    return _best(lambda b_i, b_f: lambda m, s: linear_sa(
        m, b_i, b_f, sweeps, replicas, s, order,
        None if start is None else np.tile(start(m), (replicas, 1))),
        instances, runs, grid_i, grid_f, seed)


def best_geometric(instances, runs, grid_i=(0.01, 0.1, 0.3), grid_f=(1.0, 2.0, 3.0, 5.0),
                   sweeps=4000, replicas=64, seed=0):
    """((beta_i, beta_f), `Score`) of dwave-samplers' SA with the geometric schedule of the
    grid that succeeds most often."""
    return _best(lambda b_i, b_f: lambda m, s: dwave_sa(m, sweeps, replicas, s, (b_i, b_f)),
                 instances, runs, grid_i, grid_f, seed)
