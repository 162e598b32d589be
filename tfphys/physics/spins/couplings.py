"""Generic Ising-type models H(s) = offset - sum_{i<j} J_ij s_i s_j - sum_i h_i s_i, s_i = +-1.

`Couplings` stores J symmetric in CSR form (what the Metropolis engine iterates over) with the
fields h and the configuration shape. Builders give the models of the thesis: the ferromagnetic
square Ising model, the 2D Edwards-Anderson spin glass and the weak-strong clusters model.
"""

import dataclasses
import functools

import numpy as np
import scipy.sparse

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.spins.lattice import check_spins, square_bonds


@dataclasses.dataclass(frozen=True, eq=False)
class Couplings:
    """Sparse symmetric couplings (CSR: indptr, indices, weights), fields and shape."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    field: np.ndarray
    shape: tuple
    offset: float = 0.0

    @property
    def n(self):
        return int(self.field.size)

    @classmethod
    def from_edges(cls, n, i, j, J, field=None, shape=None, offset=0.0):
        """Build from edge lists: bond k couples spins i[k] and j[k] with strength J[k].
        Repeated bonds add up; self-couplings are rejected (they are a constant)."""
        i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
        J = np.broadcast_to(np.asarray(J, np.float64), i.shape)
        if i.shape != j.shape or i.ndim != 1:
            raise InputError("edge lists i and j must be 1-D and of equal length")
        if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n):
            raise InputError(f"edge endpoints must lie in [0, {n})")
        if np.any(i == j):
            raise InputError("self-couplings J_ii are constants; put them in `offset`")
        if not np.all(np.isfinite(J)):
            raise InputError("couplings J contain NaN or inf")
        field = np.zeros(n) if field is None else np.asarray(field, np.float64).reshape(-1)
        if field.size != n or not np.all(np.isfinite(field)):
            raise InputError(f"field h must hold {n} finite values")
        shape = (n,) if shape is None else tuple(shape)
        if int(np.prod(shape)) != n:
            raise InputError(f"shape {shape} does not hold {n} spins")
        matrix = scipy.sparse.coo_matrix((np.concatenate([J, J]), (np.concatenate([i, j]),
                                          np.concatenate([j, i]))), shape=(n, n)).tocsr()
        matrix.sum_duplicates()
        matrix.sort_indices()
        return cls(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64),
                   matrix.data.astype(np.float64), field, shape, float(offset))

    @functools.cached_property
    def matrix(self):
        """J as a scipy CSR matrix (symmetric, zero diagonal), built once."""
        return scipy.sparse.csr_matrix((self.weights, self.indices, self.indptr), (self.n, self.n))

    def _flat(self, spins):
        spins = check_spins(spins, self.shape)
        return spins.reshape(len(spins), self.n).astype(np.float64)

    def energy(self, spins):
        """Energies of a batch of configurations, shape (batch,)."""
        s = self._flat(spins)
        return self.offset - 0.5 * np.einsum("bi,bi->b", s, (self.matrix @ s.T).T) - s @ self.field

    def flip_delta(self, spins):
        """Energy change of flipping each single spin, shape (batch, n)."""
        s = self._flat(spins)
        return 2.0 * s * ((self.matrix @ s.T).T + self.field)

    def _tf_local_field(self, spins):
        import tensorflow as tf

        s = tf.reshape(tf.cast(spins, tf.float64), [-1, self.n])
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        J = tf.sparse.SparseTensor(np.stack([rows, self.indices], 1), self.weights, [self.n, self.n])
        return s, tf.transpose(tf.sparse.sparse_dense_matmul(J, s, adjoint_b=True)) + self.field

    def energy_tf(self, spins):
        """TensorFlow version of `energy` (float64), for tensors of shape (batch, *shape)."""
        import tensorflow as tf

        s, f = self._tf_local_field(spins)
        return self.offset - tf.reduce_sum(s * (0.5 * (f - self.field) + self.field), axis=1)

    def flip_delta_tf(self, spins):
        """TensorFlow version of `flip_delta` (float64), shape (batch, n)."""
        s, f = self._tf_local_field(spins)
        return 2.0 * s * f


def ising(L, J=1.0, field=0.0):
    """Nearest-neighbour Ising model on an L x L torus: H = -J sum_<ij> s_i s_j - h sum_i s_i."""
    bonds = square_bonds(L)
    J, field = checks.real("J", J), checks.real("field", field)
    return Couplings.from_edges(L * L, bonds[:, 0], bonds[:, 1], J,
                                field=np.full(L * L, field), shape=(L, L))


def edwards_anderson(L, seed=None, std=1.0):
    """2D Edwards-Anderson spin glass: Gaussian J_ij (mean 0, `std`) on the nearest-neighbour
    bonds of an L x L torus, no field. `seed` makes the instance reproducible."""
    bonds = square_bonds(L)
    J = np.random.default_rng(seed).normal(0.0, checks.real("std", std, low=0, strict=True), len(bonds))
    return Couplings.from_edges(L * L, bonds[:, 0], bonds[:, 1], J, shape=(L, L))


def weak_strong_clusters(strong=1.0, weak=-0.44, J=1.0):
    """The 16-spin weak-strong clusters model (thesis Fig. 1a, after Denchev et al. 2016).

    Two K_{4,4} clusters: spins 0-3 couple to 4-7 (strong cluster, h = `strong`), spins 8-11
    couple to 12-15 (weak cluster, h = `weak`); the eight central spins 4-7 and 8-11 couple
    one-to-one across. All couplings ferromagnetic (J). The local minimum has each cluster
    aligned with its own field; the global minimum has both aligned with the strong one.
    """
    edges = [(a, b) for base in (0, 8) for a in range(base, base + 4) for b in range(base + 4, base + 8)]
    edges += [(4 + k, 8 + k) for k in range(4)]
    i, j = np.array(edges).T
    return Couplings.from_edges(16, i, j, J, field=[strong] * 8 + [weak] * 8)
