"""The thesis's four classes of 2D potentials (Appendix B of "Deep learning and the Schrödinger
equation"), on x, y in [-20, 20] a.u. sampled by `linspace(-20, 20, 256)`, in Hartree.

Every generator takes `count` and `seed` and returns (V (count, n, n) float64, parameters
{name: (count,) array}); the first axis of V is x, the second y. Vectorised over the batch
except the random potentials' blob outline (one spline per potential).

* `sho`: V = 1/2 [k_x (x - c_x)^2 + k_y (y - c_y)^2], truncated at 20 Ha (Table I).
* `infinite_well`: 0 inside an L_x x L_y box centred at (c_x, c_y), 20 outside; the energy is
  drawn first (E ~ U[0, 0.4] Ha, L_x ~ U[4, 15] redrawn until Eq. B3 gives L_y, the sides
  swapped with probability 1/2), so the box energies are uniform on [LOWEST_BOX, 0.4] Ha
  (redrawing E as well would thin out the low energies; below LOWEST_BOX = 0.022 Ha no L_x
  of the range works, so E is redrawn there).
* `double_gaussian`: two inverted Gaussian wells (Eq. B4, Table II), shifted so that min V = 0
  like every other class (Eq. B4 alone puts eps0 between -6 and -1.5 Ha; the thesis's
  0-400 mHa needs the shift).
* `random`: the multistep recipe (Table III). Two 16 x 16 binary grids, upscaled to 256 and
  128, the smaller centred and subtracted, blurred (sigma_1); a blob mask (k^2 random points
  on 200 x 200, the points of their convex hull joined by a periodic cubic spline, filled,
  resized to R x R, centred, blurred with sigma_2); the product, raised to d in
  {0.1, 0.5, 1, 2}, inverted. The thesis does not say how it keeps the base of V^d
  non-negative nor how it reaches 20 at the border: here the blurred image is rescaled to
  [0, 1], the blurred mask lowered by its largest border value (so it is exactly 0 on the
  border: V^0.1 would lift a blur tail of 1e-3 to 0.5) and the inverted result scaled to
  [0, 20], so V = 20 on the whole border.
"""

import numpy as np
import scipy.interpolate
import scipy.ndimage
import scipy.spatial
from matplotlib.path import Path

from tfphys import checks
from tfphys.errors import InputError

EXTENT = 20.0  # a.u.: the grid spans [-EXTENT, EXTENT] in x and y
SIZE = 256
WALL = 20.0  # Ha: the thesis's numerical infinity and truncation
LOWEST_BOX = np.pi ** 2 / (2 * 15.0 ** 2)  # Ha: the lowest box energy the L_x range allows


def axis(n=SIZE, extent=EXTENT):
    """Grid coordinates (n,) and spacing h."""
    x = np.linspace(-extent, extent, int(n))
    return x, x[1] - x[0]


def _mesh(n):
    x, _ = axis(n)
    return x[None, :, None], x[None, None, :]


def sho(count, seed=None, n=SIZE):
    """Simple harmonic oscillators; analytic ground energy (k_x^1/2 + k_y^1/2) / 2."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(0.0, 0.16, (2, count))
    c = rng.uniform(-8.0, 8.0, (2, count))
    X, Y = _mesh(n)
    V = 0.5 * (k[0, :, None, None] * (X - c[0, :, None, None]) ** 2
               + k[1, :, None, None] * (Y - c[1, :, None, None]) ** 2)
    return np.minimum(V, WALL), {"kx": k[0], "ky": k[1], "cx": c[0], "cy": c[1]}


def infinite_well(count, seed=None, n=SIZE):
    """Boxes with energies drawn uniformly (analytic pi^2/2 (1/L_x^2 + 1/L_y^2) for walls of
    infinite height)."""
    rng = np.random.default_rng(seed)
    energy, Lx, Ly = np.empty(count), np.empty(count), np.empty(count)
    for i in range(count):
        e = rng.uniform(0.0, 0.4)
        while e <= LOWEST_BOX:  # no L_x in [4, 15] reaches it
            e = rng.uniform(0.0, 0.4)
        while True:  # keep E, redraw L_x until L_y exists
            width = rng.uniform(4.0, 15.0)
            q = 2 * e / np.pi ** 2 - 1 / width ** 2
            if q > 0:
                break
        energy[i], Lx[i], Ly[i] = e, width, 1 / np.sqrt(q)
        if rng.uniform() < 0.5:
            Lx[i], Ly[i] = Ly[i], Lx[i]
    c = rng.uniform(-8.0, 8.0, (2, count))
    X, Y = _mesh(n)
    def box(centre, side, coord):  # Eq. B2: (2c - L) / 2 < coord <= (2c + L) / 2
        centre, side = centre[:, None, None], side[:, None, None]
        return (coord > (2 * centre - side) / 2) & (coord <= (2 * centre + side) / 2)
    inside = box(c[0], Lx, X) & box(c[1], Ly, Y)
    return np.where(inside, 0.0, WALL), {"energy": energy, "Lx": Lx, "Ly": Ly, "cx": c[0],
                                          "cy": c[1]}


def double_gaussian(count, seed=None, n=SIZE):
    """Double-well inverted Gaussians (Eq. B4), min V = 0; parameter "shift" is the -min
    of Eq. B4 that was added."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(2.0, 4.0, (2, count))
    c = rng.uniform(-8.0, 8.0, (2, 2, count))  # well, axis
    k = rng.uniform(1.6, 8.0, (2, 2, count))
    X, Y = _mesh(n)
    b = lambda a: a[..., None, None]  # noqa: E731
    V = -sum(b(A[w]) * np.exp(-((X - b(c[w, 0])) / b(k[w, 0])) ** 2
                              - ((Y - b(c[w, 1])) / b(k[w, 1])) ** 2) for w in range(2))
    shift = -V.min(axis=(1, 2))
    V += shift[:, None, None]
    names = {"A1": A[0], "A2": A[1], "shift": shift}
    for w in range(2):
        names.update({f"cx{w + 1}": c[w, 0], f"cy{w + 1}": c[w, 1], f"kx{w + 1}": k[w, 0],
                      f"ky{w + 1}": k[w, 1]})
    return V, names


def _blob(rng, k, R, n):
    """A filled random blob, R x R, centred on an n x n canvas (0 outside, 1 inside)."""
    points = rng.uniform(0, 200, (k * k, 2))
    hull = points[scipy.spatial.ConvexHull(points).vertices]
    closed = np.vstack([hull, hull[:1]])
    t = np.r_[0, np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))]
    outline = scipy.interpolate.CubicSpline(t, closed, bc_type="periodic")(np.linspace(0, t[-1],
                                                                                      400))
    grid = np.stack(np.meshgrid(np.arange(200) + 0.5, np.arange(200) + 0.5, indexing="ij"), -1)
    filled = Path(outline).contains_points(grid.reshape(-1, 2)).reshape(200, 200)
    small = np.clip(scipy.ndimage.zoom(filled.astype(np.float64), R / 200, order=1), 0, 1)
    canvas = np.zeros((n, n))
    size = min(small.shape[0], n)
    start = (n - size) // 2
    canvas[start:start + size, start:start + size] = small[:size, :size]
    return canvas


def random(count, seed=None, n=SIZE):
    """Random smooth wells that reach 20 Ha at the border (Table III)."""
    rng = np.random.default_rng(seed)
    V = np.empty((count, n, n))
    params = {name: np.empty(count) for name in ("sigma1", "k", "R", "sigma2", "d")}
    for i in range(count):
        sigma1, k = rng.uniform(6, 10), int(rng.integers(2, 8))
        R, sigma2 = int(rng.integers(80, 181)), rng.uniform(10, 16)
        d = rng.choice([0.1, 0.5, 1.0, 2.0])
        big = np.kron(rng.integers(0, 2, (16, 16)), np.ones((n // 16, n // 16)))
        image = big.astype(np.float64)
        half = n // 2
        image[half // 2:half // 2 + half, half // 2:half // 2 + half] -= np.kron(
            rng.integers(0, 2, (16, 16)), np.ones((half // 16, half // 16)))
        image = scipy.ndimage.gaussian_filter(image, sigma1)
        image = (image - image.min()) / max(np.ptp(image), 1e-12)
        mask = scipy.ndimage.gaussian_filter(_blob(rng, k, R, n), sigma2)
        edge = max(mask[0].max(), mask[-1].max(), mask[:, 0].max(), mask[:, -1].max())
        mask = np.clip((mask - edge) / (1 - edge), 0, 1)  # exactly 0 on the border
        well = (image * mask) ** d
        V[i] = WALL * (1 - well / max(well.max(), 1e-12))
        for name, value in zip(params, (sigma1, k, R, sigma2, d)):
            params[name][i] = value
    return V, params


GENERATORS = {"sho": sho, "iw": infinite_well, "dig": double_gaussian, "random": random}
KINDS = tuple(GENERATORS)


def generate(kind, count, seed=None, n=SIZE):
    """(V, parameters) of `count` potentials of `kind` (one of KINDS)."""
    if kind not in GENERATORS:
        raise InputError(f"unknown potential kind {kind!r}; choose from {', '.join(KINDS)}")
    return GENERATORS[kind](checks.integer("count", count, low=1), seed, n)
