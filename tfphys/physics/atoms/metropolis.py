"""Metropolis Monte Carlo on the atomic positions of a sheet (thesis: the EDNN as the energy of
Monte Carlo on graphene at 1000 K, compared through g(r) with a run on the electronic-structure
energy itself), behind the one engine interface (`physics.engine.Engine`).

A step moves one random atom by a uniform displacement in a cube of side `step` Angstrom and
accepts it with min(1, exp(-beta dE)); a sweep is one step per atom. The energy is any object
with `reset(positions) -> E` and `trial(i, position) -> E after moving atom i` (not kept until
`commit()`), so a network can re-evaluate only what a move touches (`training.operators
.SheetEnergy`) while the reference recomputes everything (`labeller.LabellerEnergy`).
"""

import numpy as np

from tfphys import checks
from tfphys.physics.engine import Engine

KB = 8.617333262e-5  # eV / K


class PositionMetropolis(Engine):
    """One replica of a sheet's positions (1, atoms, 3) under Metropolis moves."""

    magnetization_dtype = np.float64  # no magnetization: NaN in the trace

    def __init__(self, atoms, energy, step=0.1, seed=None):
        self.step = checks.real("step", step, low=0, strict=True)
        self._spins = atoms.positions[None].copy()
        self._model = energy
        self._energy = np.array([energy.reset(self._spins[0])])
        self._rng = np.random.default_rng(seed)

    def _sweeps(self, betas, trace):
        atoms = self._spins.shape[1]
        for k, beta in enumerate(betas):
            accepted = 0
            for _ in range(atoms):
                i = int(self._rng.integers(atoms))
                moved = self._spins[0, i] + self._rng.uniform(-self.step / 2, self.step / 2, 3)
                after = self._model.trial(i, moved)
                if self._rng.random() < np.exp(-beta * (after - self._energy[0])):
                    self._model.commit()
                    self._spins[0, i], self._energy[0] = moved, after
                    accepted += 1
            trace.energy[0, k], trace.magnetization[0, k] = self._energy[0], np.nan
            trace.acceptance[0, k] = accepted / atoms


def radial_distribution(frames, cell, r_max=5.0, bins=100):
    """(r, g(r)) of in-plane distances averaged over position frames (n, atoms, 3) of a sheet
    with periodic in-plane `cell` (3, 3): pair counts in annuli normalised by the ideal 2D gas
    at the same areal density (minimum image; r_max below half the shorter cell side)."""
    plane = np.asarray(cell)[:2, :2]
    inverse = np.linalg.inv(plane)
    edges = np.linspace(0, r_max, bins + 1)
    counts = np.zeros(bins)
    for positions in frames:
        step = positions[:, None, :2] - positions[None, :, :2]
        frac = step @ inverse
        frac -= np.round(frac)
        d = np.linalg.norm(frac @ plane, axis=-1)[np.triu_indices(len(positions), 1)]
        counts += np.histogram(d, edges)[0]
    n, area = frames.shape[1], abs(np.linalg.det(plane))
    ideal = len(frames) * n * (n - 1) / 2 / area * np.pi * np.diff(edges ** 2)
    return 0.5 * (edges[1:] + edges[:-1]), counts / ideal
