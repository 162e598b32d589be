"""Labelled spin-model datasets: configurations from a sampler plus their exact labels.

A `SpinSource` names a model of the thesis (Ising, screened Coulomb, sinusoidal screened
Coulomb, planar Potts) on an L x L torus and computes its labels; `generate` draws `count`
examples with one of the samplers:

* ``uniform``  -- every spin independent and uniform (angles uniform in [0, pi) for Potts);
* ``targeted`` -- targeted sampling with a flat energy histogram (one bin per Ising level;
  `n_bins` uniform bins over the discovered range for long-range models);
* ``thermal``  -- Metropolis at `temperature`, `t_corr` sweeps between recorded samples
  (binary models, and the planar Potts model with single-angle moves);
* ``all``      -- the whole configuration space (L <= 4: 65,536 configurations for 4 x 4).

Each example carries `energy`, `magnetization` (per lattice, not per spin), `label` (the energy
class for the Ising model, -1 otherwise) and `test` (the SHA3 split).
"""

import dataclasses
import functools

import numpy as np

from tfphys import checks
from tfphys.data.split import is_test
from tfphys.errors import InputError
from tfphys.physics.spins import couplings as couplings_lib
from tfphys.physics.spins import ising, longrange, potts, targeted
from tfphys.physics.spins.metropolis import Metropolis

MODELS = ("ising", "screened_coulomb", "sinusoidal", "potts")
SAMPLERS = ("uniform", "targeted", "thermal", "all")


@dataclasses.dataclass(frozen=True)
class SpinSource:
    """A spin model on an L x L torus and its exact energy operator."""

    model: str = "ising"
    L: int = 8
    J: float = 1.0
    screening: float = 1.0
    r_cut: float = None

    def __post_init__(self):
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; choose one of {MODELS}")
        # physical parameters are checked here, where every CLI and Python path builds its model
        checks.integer("L", self.L, low=2)
        checks.real("J", self.J, nonzero=True)
        checks.real("screening", self.screening, low=0)
        if self.r_cut is not None:
            checks.real("r_cut", self.r_cut, low=0, strict=True)

    @property
    def continuous(self):
        return self.model == "potts"

    @property
    def has_classes(self):
        """Whether energies fall into the discrete Ising classes (Ising, even L >= 4); other
        models get label -1."""
        return self.model == "ising" and self.L % 2 == 0 and self.L >= 4

    @functools.cached_property
    def _kernel(self):
        """The long-range pair kernel, computed once per source (it costs an image sum)."""
        return longrange.PeriodicKernel(self.L, self.model, self.screening, self.r_cut, self.J)

    @functools.cached_property
    def _couplings(self):
        if self.model == "ising":
            return couplings_lib.ising(self.L, self.J)
        return self._kernel.couplings()

    def couplings(self):
        """The model as generic couplings (for Metropolis and targeted sampling), built once."""
        if self.continuous:
            raise InputError("the planar Potts model has continuous spins: use the uniform or "
                             "thermal sampler")
        return self._couplings

    def energy(self, configs):
        if self.model == "ising":
            return ising.energy(configs, self.J)
        if self.continuous:
            return potts.energy(configs, self.J)
        return self._kernel.energy(configs)

    def labels(self, configs):
        """{energy, magnetization, label, test} for a batch of configurations."""
        energy = self.energy(configs)
        return {
            "energy": energy.astype(np.float64),
            "magnetization": (np.zeros(len(configs)) if self.continuous
                              else ising.magnetization(configs)),
            "label": (ising.energy_class(energy, self.L, self.J) if self.has_classes
                      else np.full(len(configs), -1)).astype(np.int64),
            "test": is_test(configs),
        }

    def bin_edges(self, n_bins=64, seed=None):
        """Energy bins for targeted sampling: Ising levels, or uniform over the discovered range."""
        if self.has_classes:
            return targeted.level_edges(ising.energy_levels(self.L, self.J))
        low, high = targeted.discover_range(self.couplings(), seed=seed)
        return np.linspace(low, high, n_bins + 1)


def check_sampler(sampler, temperature=None):
    """InputError unless `sampler` exists and has what it needs (a temperature for thermal)."""
    if sampler not in SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    if sampler == "thermal":
        if temperature is None:
            raise InputError("the thermal sampler needs a temperature (--temperature)")
        checks.real("temperature", temperature, low=0, strict=True)


def _targeted(source, count, rng, n_bins, processes):
    """Exactly `count` configurations with a flat energy histogram: rounds of targeted sampling
    fill every reachable bin equally (bins no configuration reaches, e.g. between the discrete
    energies of a small long-range lattice, stay empty) until there are enough, then a random
    `count` of them are kept (bin counts differ by at most about one)."""
    edges = source.bin_edges(n_bins, seed=rng.integers(2 ** 63))
    cap, parts, have = -(-count // (len(edges) - 1)), [], 0
    for _ in range(100):
        bins = targeted.sample(source.couplings(), edges, cap, processes,
                               seed=int(rng.integers(2 ** 63)))
        parts.append(bins.flat()[0])
        have += len(parts[-1])
        filled = int(np.count_nonzero(bins.counts))
        if have >= count or not filled:
            break
        cap = -(-(count - have) // filled)
    if have < count:
        raise InputError(f"targeted sampling reached {have} of {count} configurations; use "
                         "another sampler")
    configs = np.concatenate(parts)
    return configs[rng.permutation(len(configs))[:count]]


def generate(source, sampler, count, seed=None, temperature=None, t_corr=1, n_equilibrate=1000,
             n_bins=64, processes=1):
    """`count` examples (fewer only for ``all``) as {spins, energy, magnetization, label, test}."""
    check_sampler(sampler, temperature)
    if count < 1:
        raise InputError(f"count must be >= 1, got {count}")
    rng = np.random.default_rng(seed)
    L = source.L
    if sampler == "all":
        configs = ising.all_configurations(L)
    elif sampler == "uniform":
        configs = (potts.random_configurations(count, L, rng) if source.continuous
                   else rng.choice(np.array([-1, 1], np.int8), size=(count, L, L)))
    elif sampler == "thermal":
        n_rep = min(count, 64)
        if source.continuous:
            mc = potts.PottsMetropolis(L, n_rep, source.J, seed=rng.integers(2 ** 63))
        else:
            mc = Metropolis(source.couplings(), n_rep, seed=rng.integers(2 ** 63))
        mc.run(np.full(n_equilibrate, 1.0 / temperature))
        batches = []
        for _ in range(-(-count // n_rep)):
            mc.run(np.full(t_corr, 1.0 / temperature))
            batches.append(mc.spins.copy())
        configs = np.concatenate(batches)[:count]
    else:
        configs = _targeted(source, count, rng, n_bins, processes)
    dtype = np.float32 if source.continuous else np.int8
    return {"spins": np.asarray(configs, dtype), **source.labels(configs)}
