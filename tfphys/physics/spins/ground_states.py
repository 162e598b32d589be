"""Proven ground states of 2D Edwards-Anderson spin glasses on an L x L torus (h = 0).

An instance is two coupling arrays: `J_right[i, j]` couples (i, j)-(i, (j+1) % L) and
`J_down[i, j]` couples (i, j)-((i+1) % L, j), with H = -sum J s s. The ground state is found
as an integer program solved to proven optimality by HiGHS (`scipy.optimize.milp`, relative
gap 0): binaries x_i (s_i = 2 x_i - 1, x_0 fixed to 1 by the global spin flip) and one
variable z_b = x_i XOR x_j per bond, so H = -sum_b J_b + 2 sum_b J_b z_b. Only the side of
the XOR that the sign of J_b makes binding is written (z_b >= |x_i - x_j| when J_b > 0,
z_b <= min(x_i + x_j, 2 - x_i - x_j) when J_b < 0), which keeps z_b integral at the optimum.

Instance files (.npz): `J_right` (n, L, L), `J_down` (n, L, L), and optionally
`ground_energy` (n,) and `ground_state` (n, L, L) int8; `load` checks them and names the file
and the index of anything wrong.
"""

import os

import numpy as np
import scipy.optimize
import scipy.sparse

from tfphys import outputs
from tfphys.errors import InputError, JobFailed
from tfphys.physics.spins import couplings as couplings_lib
from tfphys.physics.spins.lattice import square_bonds


def _bonds(J_right, J_down):
    """(bonds (2 L^2, 2) in square_bonds order: every right bond, then every down bond; their
    couplings J (2 L^2,))."""
    J = np.concatenate([np.ravel(J_right), np.ravel(J_down)]).astype(np.float64)
    return square_bonds(J_right.shape[0]), J


def couplings(J_right, J_down):
    """The instance as `Couplings`."""
    L = J_right.shape[0]
    bonds, J = _bonds(J_right, J_down)
    return couplings_lib.Couplings.from_edges(L * L, bonds[:, 0], bonds[:, 1], J, shape=(L, L))


def random_instances(L, count, seed=0):
    """`count` Gaussian (mean 0, std 1) instances: (J_right, J_down), each (count, L, L)."""
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(count, 2, L, L))
    return J[:, 0].copy(), J[:, 1].copy()


def solve(J_right, J_down, time_limit=None):
    """(ground energy, ground state (L, L) int8) of one instance, optimality proven by HiGHS;
    JobFailed if HiGHS stops before proving it (e.g. at `time_limit` seconds)."""
    L = J_right.shape[0]
    n = L * L
    bonds, J = _bonds(J_right, J_down)
    B = len(J)
    rows, cols, vals, upper = [], [], [], []
    for b, ((i, j), weight) in enumerate(zip(bonds, J)):
        if weight > 0:  # z_b - x_i + x_j >= 0 and z_b + x_i - x_j >= 0, as -z_b +- ... <= 0
            terms = [((-1, 1, -1), 0.0), ((-1, -1, 1), 0.0)]
        elif weight < 0:  # z_b - x_i - x_j <= 0 and z_b + x_i + x_j <= 2
            terms = [((1, -1, -1), 0.0), ((1, 1, 1), 2.0)]
        else:
            continue
        for (cz, ci, cj), bound in terms:
            row = len(upper)
            rows += [row, row, row]
            cols += [n + b, i, j]
            vals += [cz, ci, cj]
            upper.append(bound)
    # repeated (i, j) entries of one row add up; dense: scipy 1.11's HiGHS wrapper wants 32-bit
    # sparse indices, and L <= 16 needs at most 1024 x 768 entries
    A = scipy.sparse.coo_array((vals, (rows, cols)), shape=(len(upper), n + B)).toarray()
    lower_bounds = np.zeros(n + B)
    lower_bounds[0] = 1.0  # the global flip: spin 0 up
    options = {"mip_rel_gap": 0.0, "disp": False}
    if time_limit:
        options["time_limit"] = float(time_limit)
    result = scipy.optimize.milp(
        np.concatenate([np.zeros(n), J]), integrality=np.concatenate([np.ones(n), np.zeros(B)]),
        bounds=scipy.optimize.Bounds(lower_bounds, np.ones(n + B)),
        constraints=scipy.optimize.LinearConstraint(A, -np.inf, np.array(upper)) if upper else (),
        options=options)
    if result.status != 0:
        raise JobFailed(f"HiGHS did not prove an {L}x{L} ground state: {result.message}")
    state = np.where(result.x[:n] > 0.5, 1, -1).astype(np.int8).reshape(L, L)
    return float(couplings(J_right, J_down).energy(state[None])[0]), state


def _fail(path, message):
    raise InputError(f"{path}: {message}")


def load(path):
    """{"J_right", "J_down"[, "ground_energy", "ground_state"]} of an instance file, checked:
    shapes, finite couplings, +-1 ground states whose energy is the stored ground energy."""
    if not os.path.isfile(path):
        _fail(path, "no such instance file (make one with bin/ground_states --out)")
    try:
        with np.load(path) as data:
            found = {k: np.asarray(data[k]) for k in ("J_right", "J_down", "ground_energy",
                                                        "ground_state") if k in data.files}
    except (OSError, ValueError) as err:
        _fail(path, f"not a readable .npz instance file ({err})")
    for key in ("J_right", "J_down"):
        if key not in found:
            _fail(path, f"missing array {key!r} (needs J_right and J_down of shape (n, L, L))")
    right, down = found["J_right"], found["J_down"]
    if right.ndim != 3 or right.shape[1] != right.shape[2] or right.shape != down.shape:
        _fail(path, f"J_right {right.shape} and J_down {down.shape} must both be (n, L, L)")
    count, L = right.shape[0], right.shape[1]
    for key, array in (("J_right", right), ("J_down", down)):
        bad = np.flatnonzero(~np.isfinite(array).all(axis=(1, 2)))
        if bad.size:
            _fail(path, f"{key} of instance {bad[0]} holds NaN or inf")
    if "ground_energy" in found and found["ground_energy"].shape != (count,):
        _fail(path, f"ground_energy has shape {found['ground_energy'].shape}, expected ({count},)")
    if "ground_state" in found:
        states = found["ground_state"]
        if states.shape != (count, L, L):
            _fail(path, f"ground_state has shape {states.shape}, expected ({count}, {L}, {L})")
        bad = np.flatnonzero(~(np.abs(states) == 1).all(axis=(1, 2)))
        if bad.size:
            _fail(path, f"ground_state of instance {bad[0]} is not all +-1")
        if "ground_energy" in found:
            for k in range(count):
                own = couplings(right[k], down[k]).energy(states[k][None])[0]
                if not np.isclose(own, found["ground_energy"][k], rtol=1e-9, atol=1e-9):
                    _fail(path, f"instance {k}: its ground_state has energy {own:.6f}, not the "
                          f"stored ground_energy {found['ground_energy'][k]:.6f}")
    return found


def save(path, J_right, J_down, ground_energy, ground_state):
    """Write an instance file atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    outputs.atomic_write(path, lambda handle: np.savez(
        handle, J_right=J_right, J_down=J_down, ground_energy=np.asarray(ground_energy),
        ground_state=np.asarray(ground_state, np.int8)))
