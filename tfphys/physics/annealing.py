"""Simulated annealing with any Monte Carlo `Engine` (physics.engine).

A schedule is an array of inverse temperatures, one per sweep (`linear`, `geometric`, or any
array), or a controller deciding the change of beta step by step, the hook the reinforcement
learning agent uses: after every step of `sweeps_per_step` sweeps the controller sees the
replicas and returns delta-beta, applied linearly over the next step. A change that would make
beta negative is ignored and the system keeps its previous temperature (thesis, COOL).
"""

import dataclasses

import numpy as np

from tfphys.errors import InputError
from tfphys.physics.engine import Trace


def linear(beta_start, beta_end, n_sweeps):
    """Inverse temperature linear in the sweep index."""
    return np.linspace(beta_start, beta_end, int(n_sweeps))


def geometric(beta_start, beta_end, n_sweeps):
    """Inverse temperature geometric in the sweep index (both ends > 0)."""
    if beta_start <= 0 or beta_end <= 0:
        raise InputError("a geometric schedule needs beta_start > 0 and beta_end > 0")
    return np.geomspace(beta_start, beta_end, int(n_sweeps))


def step_schedule(beta, change, sweeps):
    """The betas of one controller step: `change` applied linearly over `sweeps` sweeps from
    `beta`, or `beta` kept throughout if the change would make it negative (the guard)."""
    target = beta + change if beta + change >= 0 else beta
    return np.linspace(beta, target, int(sweeps) + 1)[1:]


@dataclasses.dataclass
class AnnealResult:
    """Final configurations and energies, the lowest energy each replica reached, the beta of
    every sweep and the per-sweep trace (energy, magnetization, acceptance per replica)."""

    spins: np.ndarray
    energy: np.ndarray
    min_energy: np.ndarray
    betas: np.ndarray
    trace: object


def _result(mc, betas, traces):
    energy = np.concatenate([t.energy for t in traces], axis=1)
    trace = Trace(energy, np.concatenate([t.magnetization for t in traces], axis=1),
                  np.concatenate([t.acceptance for t in traces], axis=1))
    return AnnealResult(mc.spins.copy(), mc.energy, energy.min(axis=1), np.asarray(betas), trace)


def anneal(mc, betas=None, controller=None, beta0=None, n_steps=None, sweeps_per_step=1):
    """Anneal the replicas of `mc` (any `Engine`) and return an `AnnealResult`.

    Either `betas` (one inverse temperature per sweep), or `controller(step, beta, mc)` ->
    delta-beta with the starting `beta0`, `n_steps` steps and `sweeps_per_step` sweeps a step.
    """
    if (betas is None) == (controller is None):
        raise InputError("give either a schedule `betas` or a `controller`, not both or neither")
    if betas is not None:
        betas = np.asarray(betas, np.float64)
        return _result(mc, betas, [mc.run(betas)])
    if beta0 is None or n_steps is None or beta0 < 0:
        raise InputError("a controller needs beta0 >= 0 and n_steps")
    beta, all_betas, traces = float(beta0), [], []
    for step in range(int(n_steps)):
        step_betas = step_schedule(beta, float(controller(step, beta, mc)), sweeps_per_step)
        traces.append(mc.run(step_betas))
        all_betas.append(step_betas)
        beta = float(step_betas[-1])
    return _result(mc, np.concatenate(all_betas), traces)
