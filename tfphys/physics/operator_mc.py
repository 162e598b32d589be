"""Metropolis with any energy operator: a callable mapping a batch of configurations to
energies, e.g. a trained network (thesis: "Replicating the Ising model phase transition").

Each step proposes one random single-spin flip in every replica and asks the operator for the
energies of all proposals in one batch; a sweep is N such steps. Magnetization can come from
another operator or from the spins. Observables and error bars are those of
`tfphys.physics.thermo`, so a learned operator's curves can be laid over the exact ones.
"""

import numpy as np

from tfphys.errors import InputError
from tfphys.physics.thermo import assemble, measure


def scan(energy_fn, L, temperatures, n_replicas=32, n_equilibrate=200, n_measure=1000,
         magnetization_fn=None, seed=None):
    """Thermodynamics of L x L binary spins under `energy_fn` (batch -> energies), hot to cold."""
    temperatures = np.asarray(temperatures, np.float64)
    if np.any(temperatures <= 0) or n_replicas < 2 or n_measure < 1:
        raise InputError("need temperatures > 0, n_replicas >= 2 and n_measure >= 1")
    rng = np.random.default_rng(seed)
    n = L * L
    spins = rng.choice(np.array([-1, 1], np.int8), size=(n_replicas, L, L))
    energy = np.asarray(energy_fn(spins), np.float64).reshape(-1)
    if energy.shape != (n_replicas,):
        raise InputError(f"the energy operator returned shape {energy.shape} for {n_replicas} configurations")
    rows = np.arange(n_replicas)
    rows_out = []
    for T in temperatures:
        beta = 1.0 / T
        e_series, m_series = [], []
        for sweep in range(n_equilibrate + n_measure):
            for _ in range(n):
                site = rng.integers(n, size=n_replicas)
                r, c = np.divmod(site, L)
                proposal = spins.copy()
                proposal[rows, r, c] *= -1
                e_new = np.asarray(energy_fn(proposal), np.float64).reshape(-1)
                accept = rng.random(n_replicas) < np.exp(-beta * np.maximum(e_new - energy, 0.0))
                spins[accept] = proposal[accept]
                energy[accept] = e_new[accept]
            if sweep >= n_equilibrate:
                e_series.append(energy.copy())
                m = (magnetization_fn(spins) if magnetization_fn else spins.sum(axis=(1, 2)))
                m_series.append(np.abs(np.asarray(m, np.float64).reshape(-1)))
        rows_out.append(measure(beta, np.array(e_series).T, np.array(m_series).T, n))
    return assemble(temperatures, rows_out)
