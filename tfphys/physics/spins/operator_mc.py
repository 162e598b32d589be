"""Metropolis with any energy operator: a callable mapping a batch of configurations to
energies, e.g. a trained network (thesis: "Replicating the Ising model phase transition").

Each step proposes one random single-spin flip in every replica and asks the operator for the
energies of all proposals in one batch; a sweep is N such steps. Magnetization can come from
another operator or from the spins. `OperatorMetropolis` is an `Engine` like
`metropolis.Metropolis`, so `thermo.scan_engine` measures it with the same observables and error
bars and a learned operator's curves lie over the exact ones.
"""

import numpy as np

from tfphys.errors import InputError
from tfphys.physics.engine import Engine
from tfphys.physics.spins.thermo import scan_engine


class OperatorMetropolis(Engine):
    """Replicas of L x L binary spins under `energy_fn` (batch -> energies)."""

    magnetization_dtype = np.float64  # a magnetization operator need not give integers

    def __init__(self, energy_fn, L, n_replicas=32, magnetization_fn=None, seed=None):
        self.energy_fn, self.magnetization_fn = energy_fn, magnetization_fn
        self._rng = np.random.default_rng(seed)
        self._spins = self._rng.choice(np.array([-1, 1], np.int8), size=(n_replicas, L, L))
        self._energy = self._evaluate(energy_fn, self._spins)

    def _evaluate(self, fn, spins):
        values = np.asarray(fn(spins), np.float64).reshape(-1)
        if values.shape != (len(spins),):
            raise InputError(f"the operator returned shape {values.shape} for {len(spins)} configurations")
        return values

    def _sweeps(self, betas, trace):
        n_rep, L = self._spins.shape[0], self._spins.shape[1]
        rows = np.arange(n_rep)
        for k, beta in enumerate(betas):
            accepted = np.zeros(n_rep)
            for _ in range(self.n):
                r, c = np.divmod(self._rng.integers(self.n, size=n_rep), L)
                proposal = self._spins.copy()
                proposal[rows, r, c] *= -1
                e_new = self._evaluate(self.energy_fn, proposal)
                accept = self._rng.random(n_rep) < np.exp(-beta * np.maximum(e_new - self._energy, 0.0))
                self._spins[accept] = proposal[accept]
                self._energy[accept] = e_new[accept]
                accepted += accept
            trace.energy[:, k] = self._energy
            trace.magnetization[:, k] = (self._evaluate(self.magnetization_fn, self._spins)
                                         if self.magnetization_fn else self._spins.sum(axis=(1, 2)))
            trace.acceptance[:, k] = accepted / self.n


def scan(energy_fn, L, temperatures, n_replicas=32, n_equilibrate=200, n_measure=1000,
         magnetization_fn=None, seed=None):
    """Thermodynamics of L x L binary spins under `energy_fn` (batch -> energies), hot to cold."""
    mc = OperatorMetropolis(energy_fn, L, n_replicas, magnetization_fn, seed)
    return scan_engine(mc, temperatures, n_equilibrate, n_measure)
