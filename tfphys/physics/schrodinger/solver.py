"""The two lowest eigenvalues of H = -1/2 laplacian + V on a square grid (5-point finite
differences, psi = 0 outside the grid, atomic units) and the kinetic energy <psi0|T|psi0>.

Why it is fast: every step is O(N) on the grid. A block of two vectors is refined by LOBPCG
whose preconditioner is one geometric multigrid V-cycle for H - min V (red-black Gauss-Seidel,
2 x 2 averaging, cell-centred bilinear interpolation, V averaged onto the coarse grids), and
the start is nested ("full multigrid"): the lowest states of the potential averaged onto a
16 x 16 grid come from a dense solver, are interpolated to 32 x 32 and refined there, and so on
up to the full grid, where two to seven iterations are left. The kernels are Numba-compiled and
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

from tfphys.errors import InputError, JobFailed
from tfphys.physics.schrodinger import potentials

COARSEST = 16  # the nested start solves this grid densely


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
    """Ritz values and coefficients of the block S (k, n, n) with images AS."""
    flat, aflat = S.reshape(len(S), -1), AS.reshape(len(AS), -1)
    gram_a = flat @ aflat.T
    return scipy.linalg.eigh(0.5 * (gram_a + gram_a.T), flat @ flat.T)


def _combine(C, S):
    return np.tensordot(C.T, S, 1)


def _lobpcg(V, h, X, tol, max_iterations):
    """Refine the block X (m, n, n) towards the m lowest eigenpairs of H on this grid;
    (eigenvalues, vectors, iterations, largest residual)."""
    c, m = 1 / (2 * h * h), len(X)
    precondition = _Multigrid(V, h, -V.min())

    def apply(Y):
        out = np.empty_like(Y)
        _apply(Y, V, c, out)
        return out

    values, C = _rayleigh_ritz(X, apply(X))
    AX = apply(X)
    X, AX = _combine(C, X), _combine(C, AX)
    P = AP = None
    for iteration in range(max_iterations + 1):
        R = AX - values[:m, None, None] * X
        worst = float(np.sqrt((R ** 2).sum(axis=(1, 2))).max())
        if worst < tol or iteration == max_iterations:
            return values[:m], X, iteration, worst
        W = precondition(R)
        W /= np.sqrt((W ** 2).sum(axis=(1, 2)))[:, None, None]
        AW = apply(W)
        blocks = [(X, AX), (W, AW)] + ([(P, AP)] if P is not None else [])
        S, AS = np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])
        try:
            values, C = _rayleigh_ritz(S, AS)
        except np.linalg.LinAlgError:  # P became dependent on X and W: restart without it
            S, AS = S[:2 * m], AS[:2 * m]
            values, C = _rayleigh_ritz(S, AS)
        C = C[:, :m]
        X, AX = _combine(C, S), _combine(C, AS)
        P, AP = _combine(C[m:], S[m:]), _combine(C[m:], AS[m:])
        norm = np.sqrt((P ** 2).sum(axis=(1, 2)))[:, None, None]
        P, AP = P / norm, AP / norm


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


def solve(V, extent=potentials.EXTENT, tol=1e-4, max_iterations=60):
    """`Solution` of one potential V (n, n) in Hartree on [-extent, extent]^2."""
    V = _check(V)
    n, h = V.shape[0], potentials.axis(V.shape[0], extent)[1]
    grids = [V]
    while grids[-1].shape[0] > COARSEST and grids[-1].shape[0] % 2 == 0:
        grids.append(_average(grids[-1]))
    coarse = grids[-1]
    step = h * n / coarse.shape[0]
    if coarse.shape[0] <= 2 * COARSEST:  # dense start
        _, vectors = scipy.linalg.eigh(hamiltonian(coarse, extent).toarray(), subset_by_index=[0, 1])
        X = vectors.T.reshape(2, *coarse.shape)
    else:  # a grid that does not halve: LOBPCG from a smooth start
        x = np.linspace(0, np.pi, coarse.shape[0] + 2)[1:-1]
        X = np.stack([np.outer(np.sin(x), np.sin(x)), np.outer(np.sin(2 * x), np.sin(x))])
    for level, grid in enumerate(reversed(grids)):
        step = h * n / grid.shape[0]
        if level:
            fine = np.zeros((2,) + grid.shape)
            _interpolate_add(X, fine)
            X = fine
        last = grid is V
        values, X, iterations, residual = _lobpcg(grid, step, X, tol if last else 1e-3,
                                                  max_iterations)
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
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        found = list(pool.map(lambda v: solve(v, extent, tol), V))
    return tuple(np.array([getattr(s, name) for s in found]) for name in ("eps0", "eps1",
                                                                           "kinetic"))
