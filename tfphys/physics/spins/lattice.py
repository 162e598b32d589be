"""Square periodic lattices: site indexing, nearest-neighbour bonds, shape checks."""

import numpy as np

from tfphys import checks
from tfphys.errors import InputError


def square_bonds(L):
    """Nearest-neighbour bonds (i, j) of an L x L torus, site index i = row * L + col.

    Each site has a right and a down bond, 2 L^2 bonds in all (for L = 2 every pair appears
    twice, as it does in the periodic Hamiltonian).
    """
    checks.integer("L", L, low=2)
    idx = np.arange(L * L).reshape(L, L)
    right = np.stack([idx.ravel(), np.roll(idx, -1, axis=1).ravel()], axis=1)
    down = np.stack([idx.ravel(), np.roll(idx, -1, axis=0).ravel()], axis=1)
    return np.concatenate([right, down])


def check_spins(spins, shape, name="spins"):
    """Return `spins` as an array of shape (batch, *shape); a single configuration gets a batch
    axis. Raises InputError naming the expected shape otherwise."""
    spins = np.asarray(spins)
    shape = tuple(shape)
    if spins.shape == shape:
        spins = spins[None]
    if spins.shape[1:] != shape:
        raise InputError(f"{name} have shape {spins.shape}; expected (batch, {', '.join(map(str, shape))})")
    return checks.spins(name, spins)


def lattice_batch(configs, what="configurations", binary=True):
    """`configs` as (batch, L, L'); a single 2-D lattice gets a batch axis. Raises InputError
    naming the expected shape otherwise, or values other than +-1 when `binary`."""
    configs = np.asarray(configs)
    if configs.ndim == 2:
        configs = configs[None]
    if configs.ndim != 3:
        raise InputError(f"{what} must have shape (batch, L, L), got {configs.shape}")
    return checks.spins(what, configs) if binary else configs
