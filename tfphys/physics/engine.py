"""The one Monte Carlo engine interface, in the style of tf_agents' `PyEnvironment`.

`Engine.run(betas)` is the public entry: it checks the inverse temperatures, allocates the
`Trace` (energy, magnetization and acceptance of every replica after every sweep) and calls
the subclass's `_sweeps(betas, trace)`, which makes one sweep per beta and fills the trace.
Every engine has `spins` (replicas, ...), `n` (spins per replica) and `energy` (replicas,),
so annealing (`physics.annealing`), thermodynamics (`physics.spins.thermo.scan_engine`) and
the COOL environment work with any of them: the spin engines `Metropolis` (any couplings),
`WindowMetropolis` (tabulated focus-1 EDNN), `OperatorMetropolis` (any operator, e.g. a
network) and `PottsMetropolis`, and `PositionMetropolis` (`atoms.metropolis`) on atomic positions.
"""

import abc
import dataclasses

import numpy as np

from tfphys.errors import InputError


def check_betas(betas):
    """Inverse temperatures as a contiguous float64 1-D array of finite values >= 0."""
    betas = np.ascontiguousarray(np.atleast_1d(betas), dtype=np.float64)
    if betas.ndim != 1 or not np.all(np.isfinite(betas)) or np.any(betas < 0):
        raise InputError("inverse temperatures must be a 1-D array of finite values >= 0")
    return betas


@dataclasses.dataclass
class Trace:
    """Per-sweep observables of every replica, each of shape (replicas, sweeps)."""

    energy: np.ndarray
    magnetization: np.ndarray
    acceptance: np.ndarray


class Engine(abc.ABC):
    """Replicas of one model under Monte Carlo dynamics. Subclasses implement `_sweeps` and
    keep their configurations in `_spins` (replicas, *lattice) and energies in `_energy`
    (or override `spins`, `n`, `energy`); `run` does the bookkeeping."""

    magnetization_dtype = np.int64  # spin sums; engines with continuous spins use float64

    def run(self, betas):
        """One sweep per entry of `betas` (inverse temperatures >= 0); returns a `Trace`."""
        betas = check_betas(betas)
        shape = (len(self.spins), len(betas))
        trace = Trace(np.empty(shape), np.empty(shape, self.magnetization_dtype), np.empty(shape))
        if len(betas):
            self._sweeps(betas, trace)
        return trace

    @abc.abstractmethod
    def _sweeps(self, betas, trace):
        """Make one sweep per beta (a checked float64 array), writing column k of every
        `trace` field after sweep k."""

    @property
    def spins(self):
        """Current configurations, shape (replicas, *lattice)."""
        return self._spins

    @property
    def n(self):
        """Spins per replica."""
        return int(np.prod(self._spins.shape[1:]))

    @property
    def energy(self):
        """Current energy of each replica, shape (replicas,) (a copy)."""
        return self._energy.copy()
