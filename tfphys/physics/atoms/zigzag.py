"""The thesis's zig-zag encoding of a sheet on the honeycomb lattice (RUGAN on hexagonal sheets,
thesis section 4.3): every site of the underlying triangular lattice (spacing one bond,
a / sqrt(3)) is a pixel, +1 where an atom sits and -1 where none does; the hexagon centres
are sites that are always empty (`mask`). Pixels are stored as HexagDLY does: column c at
x = c a / 2, row r at y = (r + (c odd) / 2) a / sqrt(3), so odd columns sit half a row lower
and each column is a zig-zag line of the triangular lattice. Periodic cells of `sheets.hexagonal`
orientation map exactly: repeat (n1, n2) gives a (3 n2, 2 n1) encoding (the thesis's 35 A
sheets, repeat (14, 8), give its 24 x 28; our porous cells, (10, 6), give 18 x 20).

Multi-species ready: `values` gives each species its own pixel value (vacancy -1).
"""

import ase
import numpy as np
from scipy.spatial import cKDTree

from tfphys.errors import InputError
from tfphys.physics.atoms import sheets

GRAPHENE = {"C": 1.0}
A = sheets.LATTICE["graphene"][1]  # Angstrom


def check_shape(height, width):
    """A (height, width) encoding repeats the honeycomb only with height a multiple of 3 and
    width even (the period of the hexagon centres on the torus)."""
    if height < 3 or width < 2 or height % 3 or width % 2:
        raise InputError(f"a {height}x{width} encoding breaks the zig-zag period: the height "
                         f"must be a multiple of 3 and the width even (e.g. 24x28)")
    return height, width


def mask(height, width):
    """(height, width) bool: True on the hexagon centres, where no atom may sit."""
    check_shape(height, width)
    rows, cols = np.mgrid[:height, :width]
    return rows % 3 == 1 + cols % 2


def positions(height, width, a=A):
    """(height, width, 2) xy positions of the sites in Angstrom (lattice constant `a`)."""
    check_shape(height, width)
    rows, cols = np.mgrid[:height, :width]
    bond = a / np.sqrt(3)
    return np.stack([cols * a / 2, (rows + (cols % 2) / 2) * bond], axis=-1)


def encode(atoms, values=GRAPHENE, a=A):
    """(height, width) float32 encoding of a periodic sheet in `sheets.hexagonal` orientation:
    each atom goes to its nearest site (thermal displacements allowed), +`values[symbol]` there,
    -1 elsewhere. Refuses cells that are not periodic in-plane, cells that are not a whole
    number of rectangular graphene cells, unknown species, atoms far from any site, on a
    hexagon centre or two on one site."""
    if not all(atoms.pbc[:2]):
        raise InputError("the zig-zag encoding needs a cell periodic along x and y (pbc)")
    cell = np.asarray(atoms.cell)
    if np.abs(cell[0, 1]) > 1e-6 or np.abs(cell[1, 0]) > 1e-6:
        raise InputError("the zig-zag encoding needs a rectangular cell (x along a zig-zag edge)")
    bond = a / np.sqrt(3)
    width, height = cell[0, 0] / (a / 2), cell[1, 1] / bond
    if not (np.isclose(width, round(width), atol=1e-3) and np.isclose(height, round(height),
                                                                     atol=1e-3)):
        raise InputError(f"a {cell[0, 0]:.3f} x {cell[1, 1]:.3f} A cell is not a whole number "
                         f"of rectangular cells {a:.3f} x {a * np.sqrt(3):.3f} A")
    height, width = check_shape(int(round(height)), int(round(width)))
    unknown = sorted(set(atoms.get_chemical_symbols()) - set(values))
    if unknown:
        raise InputError(f"no encoding value for {unknown}; give values for every species "
                         f"(now {sorted(values)})")
    box = np.diag(cell)[:2]
    distance, nearest = cKDTree(positions(height, width, a).reshape(-1, 2), boxsize=box).query(
        np.mod(atoms.positions[:, :2], box))
    if np.any(distance > bond / 2):
        raise InputError("an atom is more than half a bond from every lattice site; the "
                         "zig-zag encoding holds sheets on the honeycomb lattice only")
    rows, cols = np.divmod(nearest, width)
    if mask(height, width)[rows, cols].any():
        raise InputError("an atom sits on a hexagon centre; the sheet is not in the "
                         "honeycomb orientation of tfphys.physics.atoms.sheets.hexagonal")
    if len(set(zip(rows.tolist(), cols.tolist()))) < len(atoms):
        raise InputError("two atoms share one lattice site")
    out = np.full((height, width), -1.0, np.float32)
    out[rows, cols] = [values[s] for s in atoms.get_chemical_symbols()]
    return out


def decode(encoding, values=GRAPHENE, a=A, z=sheets.VACUUM / 2):
    """The `ase.Atoms` sheet of an encoding: an atom on every site outside the mask whose value
    is nearer a species' value than -1 (the vacancy), of the nearest species; periodic cell."""
    encoding = np.asarray(encoding, np.float64)
    if encoding.ndim != 2 or not np.all(np.isfinite(encoding)):
        raise InputError(f"an encoding is a finite (height, width) array, got shape "
                         f"{encoding.shape}")
    height, width = check_shape(*encoding.shape)
    symbols = list(values)
    levels = np.array([-1.0] + [values[s] for s in symbols])
    nearest = np.abs(encoding[..., None] - levels).argmin(-1)
    occupied = (nearest > 0) & ~mask(height, width)
    xy = positions(height, width, a)[occupied]
    return ase.Atoms([symbols[k - 1] for k in nearest[occupied]],
                     positions=np.column_stack([xy, np.full(len(xy), z)]),
                     cell=[width * a / 2, height * a / np.sqrt(3), sheets.VACUUM],
                     pbc=[True, True, False])
