"""Equilibrium thermodynamics by Metropolis: <E>/N, C/N and <|M|>/N against temperature.

Independent replicas give honest error bars: each replica yields its own time averages after
equilibration, and the error is the standard error of the mean over replicas. The state is
carried from one temperature to the next (order your temperatures from hot to cold to anneal
into the ordered phase).
"""

import dataclasses

import numpy as np

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.spins.metropolis import Metropolis


@dataclasses.dataclass
class Thermodynamics:
    """Per-spin observables and their standard errors, one entry per temperature."""

    temperature: np.ndarray
    energy: np.ndarray
    energy_err: np.ndarray
    heat_capacity: np.ndarray
    heat_capacity_err: np.ndarray
    abs_magnetization: np.ndarray
    abs_magnetization_err: np.ndarray


def _replica_mean(per_replica):
    return per_replica.mean(axis=0), per_replica.std(axis=0, ddof=1) / np.sqrt(len(per_replica))


def measure(beta, energy, abs_magnetization, n):
    """One temperature's (mean, error) pairs of E/N, C/N, |M|/N from series (replicas, samples)."""
    return (_replica_mean(energy.mean(axis=1) / n),
            _replica_mean(beta ** 2 * energy.var(axis=1) / n),
            _replica_mean(abs_magnetization.mean(axis=1) / n))


def assemble(temperatures, rows):
    """`Thermodynamics` from the `measure` rows of each temperature."""
    (e, e_err), (c, c_err), (m, m_err) = (np.array(col).T for col in zip(*rows))
    return Thermodynamics(np.asarray(temperatures), e, e_err, c, c_err, m, m_err)


def scan(couplings, temperatures, n_replicas=32, n_equilibrate=1000, n_measure=2000, every=1,
         seed=None, order="random"):
    """Measure every `every`-th sweep of `n_measure` sweeps after `n_equilibrate` sweeps, at
    each temperature in turn; returns `Thermodynamics`."""
    mc = Metropolis(couplings, n_replicas, seed=seed, order=order)
    return scan_engine(mc, temperatures, n_equilibrate, n_measure, every)


def scan_engine(mc, temperatures, n_equilibrate=1000, n_measure=2000, every=1):
    """`scan` with any Monte Carlo `Engine` `mc` (physics.engine: `Metropolis`,
    `tfphys.physics.spins.window.WindowMetropolis` for a tabulated learned operator,
    `tfphys.physics.spins.operator_mc.OperatorMetropolis` for any operator)."""
    temperatures = np.asarray(temperatures, np.float64).reshape(-1)
    if not temperatures.size or not np.all(np.isfinite(temperatures) & (temperatures > 0)):
        raise InputError(f"temperatures must be one or more finite values > 0, got {temperatures.tolist()}")
    if len(mc.spins) < 2:
        raise InputError("n_replicas must be >= 2: the error bars come from the replicas' spread")
    n_equilibrate = checks.integer("n_equilibrate", n_equilibrate, low=0)
    every = checks.integer("every", every, low=1)
    if checks.integer("n_measure", n_measure, low=1) < every:
        raise InputError(f"n_measure ({n_measure}) must be >= every ({every})")
    rows = []
    for T in temperatures:
        beta = 1.0 / T
        mc.run(np.full(n_equilibrate, beta))
        trace = mc.run(np.full(n_measure, beta))
        rows.append(measure(beta, trace.energy[:, ::every],
                            np.abs(trace.magnetization[:, ::every]).astype(np.float64), mc.n))
    return assemble(temperatures, rows)
