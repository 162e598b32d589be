"""The two lowest eigenvalues of H = -1/2 laplacian + V on a square grid (5-point finite
differences, psi = 0 outside the grid, atomic units) and the kinetic energy <psi0|T|psi0>.

Why it is fast: every step is O(N) on the grid. A block of three vectors (two wanted, one
guard) is refined by LOBPCG whose preconditioner is one geometric multigrid V-cycle for
H - min V (red-black Gauss-Seidel, 2 x 2 averaging, cell-centred bilinear interpolation, V
averaged onto the coarse grids), and
the start is nested ("full multigrid"): the lowest states of the potential averaged onto a
32 x 32 grid come from scipy's shift-invert eigsh below min V (6 ms; coarser grids miss narrow
wells), are interpolated to 64 x 64 and refined there, and so on up to the full grid, where
two to eight iterations are left. The kernels are Numba-compiled and
release the GIL, so `solve_many` runs one potential per thread. Stopping rule: every wanted
residual |H psi - eps psi| below `tol` (psi normalised), so the eigenvalue error is at most
about tol^2 / gap; a potential that does not converge raises `JobFailed` rather than returning
a wrong number. `hamiltonian` gives the same matrix for scipy's solvers (tests, benchmark).
"""

import concurrent.futures
import dataclasses
import os

import numba
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from threadpoolctl import threadpool_limits

from tfphys.errors import InputError, JobFailed
from tfphys.physics.schrodinger import potentials

MAX_ITERATIONS = 60  # LOBPCG iterations per grid
BLOCK = 3  # vectors refined on the full grid: eps0, eps1 and one guard
COARSEST = 32  # the nested start solves this grid with scipy's shift-invert eigsh


@numba.njit(cache=True, nogil=True)
def _apply(psi, V, c, out):
    """out = (c (4 - neighbours) + V) psi for a block psi (m, n, n); c = 1 / (2 h^2)."""
    m, n, _ = psi.shape
    for k in range(m):
        for i in range(n):
            for j in range(n):
                s = 4.0 * psi[k, i, j]
                if i > 0:
                    s -= psi[k, i - 1, j]
                if i < n - 1:
                    s -= psi[k, i + 1, j]
                if j > 0:
                    s -= psi[k, i, j - 1]
                if j < n - 1:
                    s -= psi[k, i, j + 1]
                out[k, i, j] = c * s + V[i, j] * psi[k, i, j]


@numba.njit(cache=True, nogil=True)
def _gauss_seidel(u, f, V, c, first):
    """One red-black Gauss-Seidel sweep of (c (4 - neighbours) + V) u = f, colour `first` first."""
    m, n, _ = u.shape
    for colour in (first, 1 - first):
        for k in range(m):
            for i in range(n):
                for j in range((i + colour) % 2, n, 2):
                    s = f[k, i, j]
                    if i > 0:
                        s += c * u[k, i - 1, j]
                    if i < n - 1:
                        s += c * u[k, i + 1, j]
                    if j > 0:
                        s += c * u[k, i, j - 1]
                    if j < n - 1:
                        s += c * u[k, i, j + 1]
                    u[k, i, j] = s / (4.0 * c + V[i, j])


@numba.njit(cache=True, nogil=True)
def _interpolate_add(coarse, fine):
    """fine += cell-centred bilinear interpolation of coarse (half the side); 0 outside."""
    m, nc, _ = coarse.shape
    for k in range(m):
        for I in range(nc):
            for J in range(nc):
                for di in range(2):
                    for dj in range(2):
                        i2, j2 = I + 2 * di - 1, J + 2 * dj - 1
                        inside_i, inside_j = 0 <= i2 < nc, 0 <= j2 < nc
                        b = coarse[k, i2, J] if inside_i else 0.0
                        d = coarse[k, I, j2] if inside_j else 0.0
                        e = coarse[k, i2, j2] if inside_i and inside_j else 0.0
                        fine[k, 2 * I + di, 2 * J + dj] += (9 * coarse[k, I, J] + 3 * b + 3 * d
                                                            + e) / 16.0


def _average(a):
    """2 x 2 block means over the last two axes."""
    return 0.25 * (a[..., 0::2, 0::2] + a[..., 1::2, 0::2] + a[..., 0::2, 1::2]
                   + a[..., 1::2, 1::2])


class _Multigrid:
    """V-cycle for (c (4 - neighbours) + V + shift): the preconditioner of one grid."""

    def __init__(self, V, h, shift):
        self.levels = [(V + shift, 1 / (2 * h * h))]
        while self.levels[-1][0].shape[0] > 4 and self.levels[-1][0].shape[0] % 2 == 0:
            W, c = self.levels[-1]
            self.levels.append((_average(W), c / 4))

    def __call__(self, f, level=0):
        V, c = self.levels[level]
        u = np.zeros_like(f)
        if level == len(self.levels) - 1:
            for _ in range(20):
                _gauss_seidel(u, f, V, c, 0)
            return u
        _gauss_seidel(u, f, V, c, 0)
        residual = np.empty_like(f)
        _apply(u, V, c, residual)
        _interpolate_add(self(_average(f - residual), level + 1), u)
        _gauss_seidel(u, f, V, c, 1)
        return u


def _rayleigh_ritz(S, AS):
    """Ritz values and coefficients of the block S (k, N) with images AS (k, N)."""
    gram_a = S @ AS.T
    return scipy.linalg.eigh(0.5 * (gram_a + gram_a.T), S @ S.T)


def _norms(Y):
    return np.sqrt(np.einsum("ij,ij->i", Y, Y))


def _lobpcg(V, h, X, tol, max_iterations, wanted=2):
    """Refine the block X (m, n, n) towards the m lowest eigenpairs of H on this grid until
    the first `wanted` residuals are below `tol` (the rest guard against a missed level);
    (eigenvalues, vectors (m, n, n), iterations, largest wanted residual). The basis
    [X, W, P] and its image under H live in two preallocated (3m, N) buffers."""
    c, m, n = 1 / (2 * h * h), len(X), V.shape[0]
    precondition = _Multigrid(V, h, -V.min())
    S, AS = np.empty((3 * m, n * n)), np.empty((3 * m, n * n))
    cube = lambda Y: Y.reshape(len(Y), n, n)  # noqa: E731
    S[:m] = X.reshape(m, -1)
    _apply(cube(S[:m]), V, c, cube(AS[:m]))
    values, C = _rayleigh_ritz(S[:m], AS[:m])
    S[:m], AS[:m] = C.T @ S[:m], C.T @ AS[:m]
    size = m  # rows of S in use: X, then W, then P
    for iteration in range(max_iterations + 1):
        R = AS[:m] - values[:m, None] * S[:m]
        worst = float(_norms(R[:wanted]).max())
        if worst < tol or iteration == max_iterations:
            return values[:m], cube(S[:m].copy()), iteration, worst
        W = precondition(cube(R)).reshape(m, -1)
        S[m:2 * m] = W / _norms(W)[:, None]
        _apply(cube(S[m:2 * m]), V, c, cube(AS[m:2 * m]))
        size = max(size, 2 * m)
        try:
            values, C = _rayleigh_ritz(S[:size], AS[:size])
        except np.linalg.LinAlgError:  # P became dependent on X and W: restart without it
            size = 2 * m
            values, C = _rayleigh_ritz(S[:size], AS[:size])
        both = np.zeros((size, 2 * m))  # new X and P from one pass over the basis
        both[:, :m], both[m:, m:] = C[:, :m], C[m:, :m]
        S[:m], S[2 * m:] = np.split(both.T @ S[:size], 2)
        AS[:m], AS[2 * m:] = np.split(both.T @ AS[:size], 2)
        norm = _norms(S[2 * m:])[:, None]
        S[2 * m:] /= norm
        AS[2 * m:] /= norm
        size = 3 * m


def hamiltonian(V, extent=potentials.EXTENT):
    """H of a potential (n, n) as a scipy CSR matrix (row-major flattening)."""
    n = V.shape[0]
    h = potentials.axis(n, extent)[1]
    second = scipy.sparse.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    eye = scipy.sparse.identity(n)
    return ((scipy.sparse.kron(second, eye) + scipy.sparse.kron(eye, second)) / (2 * h * h)
            + scipy.sparse.diags(np.ravel(V))).tocsr()


@dataclasses.dataclass
class Solution:
    """eps0, eps1 and the kinetic energy <psi0|T|psi0> in Hartree, the ground state psi0
    (n, n, normalised to sum psi0^2 = 1), the fine-grid iterations and the largest residual."""

    eps0: float
    eps1: float
    kinetic: float
    psi0: np.ndarray
    iterations: int
    residual: float


def _check(V):
    V = np.asarray(V, np.float64)
    if V.ndim != 2 or V.shape[0] != V.shape[1] or V.shape[0] < 4:
        raise InputError(f"a potential must be a square grid (n, n) with n >= 4, got {V.shape}")
    if not np.isfinite(V).all():
        raise InputError("the potential holds NaN or inf values")
    return V


def solve(V, extent=potentials.EXTENT, tol=1e-4, max_iterations=MAX_ITERATIONS, block=BLOCK):
    """`Solution` of one potential V (n, n) in Hartree on [-extent, extent]^2; `block`
    vectors are refined (two wanted, the rest guard against missing eps1 when levels that the
    coarse grids do not resolve cross; grids up to 64 x 64 carry two more guards). BLAS runs
    on one thread meanwhile: its (9 x N) products are slower threaded."""
    with threadpool_limits(1, user_api="blas"):
        return _solve(V, extent, tol, max_iterations, block)


def _solve(V, extent, tol, max_iterations, block):
    V = _check(V)
    block = int(block)
    if not 2 <= block <= 6:
        raise InputError(f"block must be 2 to 6 vectors, got {block}")
    n, h = V.shape[0], potentials.axis(V.shape[0], extent)[1]
    grids = [V]
    while grids[-1].shape[0] > COARSEST and grids[-1].shape[0] % 2 == 0:
        grids.append(_average(grids[-1]))
    coarse = grids[-1]
    width = lambda grid: block + 2 if grid.shape[0] <= 2 * COARSEST else block  # noqa: E731
    if coarse.shape[0] <= 2 * COARSEST:  # shift-invert below min V: the lowest levels, surely
        _, vectors = scipy.sparse.linalg.eigsh(hamiltonian(coarse, extent), k=width(coarse),
                                               sigma=coarse.min() - 0.01,
                                               v0=np.ones(coarse.size))  # reproducible
        X = vectors.T.reshape(-1, *coarse.shape)
    else:  # a grid that does not halve: LOBPCG from smooth box states
        x = np.linspace(0, np.pi, coarse.shape[0] + 2)[1:-1]
        modes = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1), (1, 3)][:block]
        X = np.stack([np.outer(np.sin(a * x), np.sin(b * x)) for a, b in modes])
    for grid in reversed(grids):
        if grid is not coarse:
            fine = np.zeros((width(grid),) + grid.shape)
            _interpolate_add(np.ascontiguousarray(X[:width(grid)]), fine)
            X = fine
        last = grid is V
        values, X, iterations, residual = _lobpcg(
            grid, h * n / grid.shape[0], X, tol if last else 1e-3, max_iterations,
            wanted=2 if last else block)
    if residual >= tol:
        raise JobFailed(f"the eigensolver did not converge in {max_iterations} iterations "
                        f"(residual {residual:.2e} Ha)")
    psi0 = X[0] / np.sqrt((X[0] ** 2).sum())
    return Solution(float(values[0]), float(values[1]), float(values[0] - (V * psi0 ** 2).sum()),
                    psi0, iterations, residual)


def solve_many(V, extent=potentials.EXTENT, tol=1e-4, workers=None):
    """(eps0, eps1, kinetic) arrays (count,) of potentials V (count, n, n), one per thread."""
    V = np.asarray(V)
    if V.ndim != 3:
        raise InputError(f"potentials must be an array (count, n, n), got shape {V.shape}")
    workers = workers or os.cpu_count() or 1
    with threadpool_limits(1, user_api="blas"), \
            concurrent.futures.ThreadPoolExecutor(workers) as pool:
        found = list(pool.map(lambda v: _solve(v, extent, tol, MAX_ITERATIONS, BLOCK), V))
    return tuple(np.array([getattr(s, name) for s in found]) for name in ("eps0", "eps1",
                                                                           "kinetic"))
