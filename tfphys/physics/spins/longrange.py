"""Long-range periodic spin Hamiltonians of the thesis (Sec. "Long-range interactions"):

    H = (J/2) sum_i sum_(j, n) s_i s_j phi(|r_i - r_j - n L|),   |.| <= r_cut, (j, n) != (i, 0)

summed over all periodic images n of an L x L cell out to r_cut (the thesis: r_cut = 64 = 8 L
for L = 8), with phi(r) = exp(-k r)/r (screened Coulomb) or exp(-k r) sin(r)/r (sinusoidal).
J > 0 is antiferromagnetic (the checkerboard is the ground state).

The image sum depends only on the displacement between two sites, so `PeriodicKernel`
computes it once per (L, k, r_cut, phi); a configuration's energy is then (J/2) s^T K s,
batched. `explicit_energy` is the direct image sum, kept as the slow reference.
"""

import numpy as np

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.spins.couplings import Couplings
from tfphys.physics.spins.lattice import check_spins

POTENTIALS = {
    "screened_coulomb": lambda r, k: np.exp(-k * r) / r,
    "sinusoidal": lambda r, k: np.exp(-k * r) * np.sin(r) / r,
}


def _potential(name):
    if name not in POTENTIALS:
        raise InputError(f"unknown potential {name!r}; choose one of {sorted(POTENTIALS)}")
    return POTENTIALS[name]


def _images(L, r_cut):
    m = int(np.ceil(r_cut / L)) + 1
    n = np.arange(-m, m + 1)
    return L * np.stack(np.meshgrid(n, n, indexing="ij"), -1).reshape(-1, 2)


class PeriodicKernel:
    """The periodic pair kernel K (N x N, N = L^2) of a long-range potential."""

    def __init__(self, L, potential="screened_coulomb", screening=1.0, r_cut=None, J=1.0):
        self.L = checks.integer("L", L, low=2)
        self.potential = potential
        self.screening = checks.real("screening", screening, low=0)
        self.J = checks.real("J", J)
        self.r_cut = 8.0 * L if r_cut is None else checks.real("r_cut", r_cut, low=0, strict=True)
        phi = _potential(potential)
        # displacement kernel: k[dx, dy] = sum over images of phi(|(dx, dy) + n L|)
        d = np.stack(np.meshgrid(np.arange(L), np.arange(L), indexing="ij"), -1).reshape(-1, 1, 2)
        r = np.linalg.norm(d + _images(L, self.r_cut)[None], axis=-1)
        inside = (r <= self.r_cut) & (r > 0)
        values = np.where(inside, phi(np.where(inside, r, 1.0), self.screening), 0.0)
        self.displacement = values.sum(axis=1).reshape(L, L)
        x, y = np.divmod(np.arange(L * L), L)
        self.matrix = self.displacement[(x[None, :] - x[:, None]) % L, (y[None, :] - y[:, None]) % L]

    def energy(self, spins):
        """(J/2) s^T K s for a batch of configurations (batch, L, L)."""
        s = check_spins(spins, (self.L, self.L)).reshape(-1, self.L * self.L).astype(np.float64)
        return 0.5 * self.J * np.einsum("bi,bi->b", s @ self.matrix, s)

    def energy_tf(self, spins):
        """TensorFlow version of `energy` (float tensor of shape (batch, L, L))."""
        import tensorflow as tf

        s = tf.reshape(tf.convert_to_tensor(spins), [-1, self.L * self.L])
        kernel = tf.constant(self.matrix, dtype=s.dtype)
        return 0.5 * self.J * tf.reduce_sum(tf.matmul(s, kernel) * s, axis=1)

    def couplings(self):
        """The same Hamiltonian as generic `Couplings` (dense), for the Metropolis engine."""
        n = self.L * self.L
        i, j = np.triu_indices(n, k=1)
        return Couplings.from_edges(n, i, j, -self.J * self.matrix[i, j], shape=(self.L, self.L),
                                    offset=0.5 * self.J * np.trace(self.matrix))


def explicit_energy(spins, potential="screened_coulomb", screening=1.0, r_cut=None, J=1.0):
    """The direct image sum over all site pairs and periodic images (slow reference)."""
    spins = np.asarray(spins)
    spins = spins[None] if spins.ndim == 2 else spins
    L = spins.shape[1]
    r_cut = float(8 * L if r_cut is None else r_cut)
    phi = _potential(potential)
    pos = np.stack(np.divmod(np.arange(L * L), L), -1).astype(np.float64)
    out = np.zeros(len(spins))
    for shift in _images(L, r_cut):
        r = np.linalg.norm(pos[:, None, :] - pos[None, :, :] - shift, axis=-1)
        mask = (r <= r_cut) & (r > 0)
        w = np.where(mask, phi(np.where(mask, r, 1.0), screening), 0.0)
        for b, s in enumerate(spins.reshape(len(spins), -1).astype(np.float64)):
            out[b] += 0.5 * J * s @ w @ s
    return out
