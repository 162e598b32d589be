"""Atoms as pictures (thesis, "atoms as images"): V(r) = sum_i Z_i exp(-|r - r_i|^2 / 2 gamma^2)
sampled on a grid over the periodic cell of a sheet, gamma = 0.2 Angstrom.

The grid samples the cell in fractional coordinates: pixel (p, q) of an (n1, n2) image sits at
(p / n1) a1 + (q / n2) a2, so any in-plane cell (rectangular or skewed, e.g. a hexagonal
primitive cell) works and images wrap across the cell boundary exactly. Each atom touches only
the pixels within CUTOFF gammas (exp(-CUTOFF^2 / 2) = 1.5e-8 of its peak), found from the
reciprocal vectors; the windows of neighbouring atoms (sorted by row, then column) are evaluated
in vectorised chunks and summed with `np.bincount` into the short stretch of the image they
cover, so the cost per atom stays the same from one cell to a million atoms, with no Python loop
over atoms.
"""

import numpy as np

from tfphys import checks
from tfphys.errors import InputError

GAMMA = 0.2  # Angstrom: the thesis's Gaussian width
CUTOFF = 6.0  # gammas: contributions beyond are below 1.5e-8 of an atom's peak
Z_MAX = 18  # the image scale's heaviest element by default (argon): Z sets the intensity
CHUNK_VALUES = 1 << 20  # window pixels evaluated at once: temporaries stay in the cache's reach


def _plane_cell(atoms):
    """The in-plane cell (2, 2) of a sheet: a1, a2 in the xy plane, periodic along both."""
    if not all(atoms.pbc[:2]):
        raise InputError(f"{atoms.get_chemical_formula()} is not periodic along x and y (pbc "
                         f"{atoms.pbc.tolist()}): an image needs the sheet's periodic cell; set "
                         "atoms.pbc = [True, True, False] and a cell")
    cell = np.asarray(atoms.cell)
    if np.any(np.abs(cell[:2, 2]) > 1e-9):
        raise InputError("the sheet's cell vectors a1, a2 must lie in the xy plane (z "
                         f"components {cell[:2, 2].tolist()}); rotate the structure first")
    plane = cell[:2, :2]
    if abs(np.linalg.det(plane)) < 1e-9:
        raise InputError(f"the in-plane cell {plane.tolist()} has no area")
    return plane


def _pixels(atoms, shape, gamma):
    """(in-plane cell, atom centres in pixel units (atoms, 2), pixels a Gaussian reaches along
    each image axis) of a sheet on an image of `shape`."""
    plane = _plane_cell(atoms)
    reciprocal = np.linalg.inv(plane)  # fractional = position @ reciprocal
    frac = atoms.positions[:, :2] @ reciprocal * shape
    return plane, frac, CUTOFF * gamma * np.linalg.norm(reciprocal, axis=0) * shape


def image(atoms, shape, gamma=GAMMA, z_max=Z_MAX, rows=None):
    """The (n1, n2) float32 image of an `ase.Atoms` sheet (axis 0 along a1, axis 1 along a2);
    `rows=(start, stop)` gives only those rows (stop - start, n2), touching only the atoms near
    them: a sheet too large for one image is built slab by slab."""
    n1, n2 = (checks.integer("image size", n, low=1) for n in shape)
    gamma = checks.real("gamma", gamma, low=0, strict=True)
    start, stop = rows or (0, n1)
    if not 0 <= start < stop <= n1:
        raise InputError(f"rows {start}:{stop} are not inside an image of {n1} rows")
    z = atoms.get_atomic_numbers()
    if len(z) and z.max() > z_max:
        k = int(np.argmax(z))
        raise InputError(f"atom {k} ({atoms[k].symbol}, Z = {z[k]}) is beyond the image scale "
                         f"(Z <= {z_max}); raise z_max to include it")
    plane, frac, reach = _pixels(atoms, (n1, n2), gamma)
    w1, w2 = (np.arange(-int(r) - 1, int(r) + 2) for r in reach)
    height = stop - start
    base = np.floor(frac).astype(np.int64)
    row = (base[:, 0] - start) % n1  # each atom's pixel row, counted from the slab's first
    if rows:  # the atoms whose windows reach a row of the slab, across the periodic seam
        near = (row < height + w1[-1]) | (row >= n1 + w1[0])
        z, frac, base, row = z[near], frac[near], base[near], row[near]
    window = (w1, w2, plane, gamma, (n1, n2), start, height)
    chunk = max(1, CHUNK_VALUES // (len(w1) * len(w2)))
    if len(z) <= chunk:
        index, values = _windows(z, frac, base, *window)
        return np.bincount(index, values, height * n2).reshape(height, n2).astype(np.float32)
    order = np.lexsort((base[:, 1], row))  # by row, then column
    below = np.searchsorted(row[order], height)  # the rest sit above the slab's first row
    out = np.zeros(height * n2)
    for group in (order[:below], order[below:]):
        for first in range(0, len(group), chunk):
            part = group[first:first + chunk]
            index, values = _windows(z[part], frac[part], base[part], *window)
            if len(index):  # neighbouring atoms: a short stretch of the slab
                lo = index.min()
                out[lo:index.max() + 1] += np.bincount(index - lo, values)
    return out.reshape(height, n2).astype(np.float32)


def _windows(z, frac, base, w1, w2, plane, gamma, shape, start, height):
    """(flat pixel index in the slab (height x n2, from row `start`), value) of every pixel of
    the atoms' Gaussian windows that falls inside the slab."""
    n1, n2 = shape
    p = base[:, 0, None, None] + w1[None, :, None]  # (atoms, window1, 1) pixel rows
    q = base[:, 1, None, None] + w2[None, None, :]  # (atoms, 1, window2) pixel columns
    d1 = (p - frac[:, 0, None, None]) / n1  # fractional steps from the atom to each pixel
    d2 = (q - frac[:, 1, None, None]) / n2
    r2 = ((d1 * plane[0, 0] + d2 * plane[1, 0]) ** 2  # squared in-plane distances
          + (d1 * plane[0, 1] + d2 * plane[1, 1]) ** 2)
    values = z[:, None, None] * np.exp(-r2 / (2 * gamma * gamma))
    row = np.broadcast_to((p % n1 - start) % n1, values.shape)  # >= height: outside the slab
    inside = row < height
    return row[inside] * n2 + np.broadcast_to(q % n2, values.shape)[inside], values[inside]


def row_positions(atoms, shape, gamma=GAMMA):
    """(row coordinate of every atom's centre in [0, n1), rows an atom's Gaussian reaches on
    either side): what picks the atoms of one slab of a large sheet without scanning all."""
    _, frac, reach = _pixels(atoms, shape, gamma)
    return frac[:, 0] % shape[0], int(reach[0]) + 2


def images(structures, shape, gamma=GAMMA, z_max=Z_MAX):
    """(count, n1, n2) float32 images of a sequence of sheets (see `image`)."""
    return np.stack([image(a, shape, gamma, z_max) for a in structures])


def area(atoms):
    """The in-plane cell area of a sheet in Angstrom^2 (energies per area: the thesis's
    meV / Angstrom^2)."""
    return float(abs(np.linalg.det(_plane_cell(atoms))))


def shape_for(atoms, spacing):
    """(n1, n2): the image size that samples the sheet's cell every `spacing` Angstrom or finer
    (the thesis: 256 x 256 for its 12.5 x 13 Angstrom cell, 0.05 Angstrom)."""
    spacing = checks.real("spacing", spacing, low=0, strict=True)
    lengths = np.linalg.norm(_plane_cell(atoms), axis=1)
    return tuple(int(np.ceil(length / spacing)) for length in lengths)
