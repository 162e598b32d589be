"""The finite-difference eigensolver against answers that do not come from it: the closed-form
eigenvalues of the discrete Laplacian (V = 0), a dense diagonalisation on small grids, scipy's
eigsh on the full 256 x 256 grid of every potential class, the harmonic oscillator's analytic
ground energy and virial theorem; bad input and non-convergence fail loudly."""

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
import tensorflow as tf

from tfphys.errors import InputError, JobFailed
from tfphys.physics.schrodinger import potentials, solver


class SolverTest(tf.test.TestCase):
    def test_free_particle_matches_the_discrete_laplacian_in_closed_form(self):
        for n in (64, 48, 50):  # 50 halves once only: LOBPCG from a smooth start
            h = potentials.axis(n)[1]
            level = lambda a, b: (4 - 2 * np.cos(np.pi * a / (n + 1))  # noqa: E731
                                  - 2 * np.cos(np.pi * b / (n + 1))) / (2 * h * h)
            found = solver.solve(np.zeros((n, n)), tol=1e-7)
            self.assertAllClose([found.eps0, found.eps1], [level(1, 1), level(1, 2)], atol=1e-8)
            self.assertAllClose(found.kinetic, found.eps0)  # V = 0: all kinetic

    def test_equals_dense_diagonalisation_on_small_grids(self):
        for kind in potentials.KINDS:
            V = potentials.generate(kind, 1, seed=7, n=32)[0][0]
            values, vectors = scipy.linalg.eigh(solver.hamiltonian(V).toarray(),
                                                subset_by_index=[0, 1])
            found = solver.solve(V)
            self.assertAllClose([found.eps0, found.eps1], values, atol=1e-6)
            psi = vectors[:, 0].reshape(32, 32)
            self.assertAllClose(found.kinetic, values[0] - (V * psi ** 2).sum(), atol=1e-6)
            self.assertAllClose(np.abs(found.psi0), np.abs(psi), atol=1e-3)

    def test_equals_eigsh_on_the_thesis_grid_for_every_class(self):
        for kind in potentials.KINDS:
            V = potentials.generate(kind, 1, seed=11)[0][0]
            reference = np.sort(scipy.sparse.linalg.eigsh(solver.hamiltonian(V), k=2,
                                                          sigma=V.min() - 0.01, tol=0)[0])
            found = solver.solve(V)
            self.assertAllClose([found.eps0, found.eps1], reference, atol=1e-6, msg=kind)
            self.assertLess(found.residual, 1e-4)

    def test_harmonic_oscillator_analytic_energy_and_virial_theorem(self):
        V, p = potentials.sho(4, seed=3)
        eps0, eps1, kinetic = solver.solve_many(V, workers=2)
        exact = 0.5 * (np.sqrt(p["kx"]) + np.sqrt(p["ky"]))
        self.assertLess(np.median(np.abs(eps0 - exact)), 1e-3)  # O(h^2) grid error, h = 0.157
        self.assertAllClose(kinetic, eps0 / 2, rtol=2e-3)  # <T> = <V> = E/2
        self.assertTrue(np.all(eps1 > eps0))
        self.assertAllClose(eps0[1], solver.solve(V[1]).eps0)  # threads change nothing

    def test_bad_potentials_and_non_convergence(self):
        with self.assertRaisesRegex(InputError, "NaN or inf"):
            solver.solve(np.full((16, 16), np.nan))
        with self.assertRaisesRegex(InputError, "square grid"):
            solver.solve(np.zeros((16, 8)))
        with self.assertRaisesRegex(InputError, "array \\(count, n, n\\)"):
            solver.solve_many(np.zeros((16, 16)))
        with self.assertRaisesRegex(JobFailed, "did not converge in 0 iterations"):
            solver.solve(potentials.sho(1, seed=0, n=64)[0][0], max_iterations=0)
