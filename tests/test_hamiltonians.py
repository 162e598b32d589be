"""Hamiltonians against exact answers computed here, independently of tfphys."""

import itertools

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics.spins import couplings, ising, longrange, potts

# Exact density of states of the periodic 4x4 Ising model (Beale, PRL 76, 78 (1996)).
DOS_4X4 = {-32: 2, -24: 32, -20: 64, -16: 424, -12: 1728, -8: 6688, -4: 13568, 0: 20524,
           4: 13568, 8: 6688, 12: 1728, 16: 424, 20: 64, 24: 32, 32: 2}


def brute_ising(s, J=1.0):
    """Bond-by-bond loop over an L x L torus."""
    L = len(s)
    return -J * sum(s[r][c] * (s[r][(c + 1) % L] + s[(r + 1) % L][c]) for r in range(L) for c in range(L))


def brute_graph(s, edges, J, h):
    return -sum(j * s[a] * s[b] for (a, b), j in zip(edges, J)) - sum(hi * si for hi, si in zip(h, s))


class IsingTest(tf.test.TestCase):
    def test_4x4_enumeration_gives_the_exact_density_of_states(self):
        configs = ising.all_configurations(4)
        self.assertEqual(configs.shape, (65536, 4, 4))
        self.assertLen(np.unique(configs.reshape(65536, -1), axis=0), 65536)
        energies = ising.energy(configs)
        levels, counts = np.unique(energies, return_counts=True)
        self.assertEqual(dict(zip(levels.astype(int), counts)), DOS_4X4)
        self.assertAllEqual(ising.energy_levels(4), sorted(DOS_4X4))
        self.assertAllEqual(ising.energy_class(energies, 4), np.searchsorted(levels, energies))

    def test_numpy_tf_and_generic_couplings_agree_with_a_bond_loop(self):
        rng = np.random.default_rng(0)
        for L in (2, 3, 5, 8):
            s = rng.choice([-1, 1], size=(20, L, L))
            want = np.array([brute_ising(x.tolist(), J=0.7) for x in s])
            self.assertAllClose(ising.energy(s, J=0.7), want)
            self.assertAllClose(ising.energy_tf(tf.constant(s, tf.float64), J=0.7), want)
            self.assertAllClose(couplings.ising(L, J=0.7).energy(s), want)
            self.assertAllEqual(ising.magnetization(s), s.sum(axis=(1, 2)))

    def test_flip_deltas_equal_energy_differences(self):
        s = np.random.default_rng(6).choice([-1, 1], size=(4, 5, 5))
        delta = ising.flip_delta(s, J=0.5)
        self.assertAllClose(ising.flip_delta_tf(tf.constant(s, tf.float64), J=0.5), delta)
        for r, c in [(0, 0), (2, 3), (4, 4)]:
            flipped = s.copy()
            flipped[:, r, c] *= -1
            self.assertAllClose(delta[:, r, c], ising.energy(flipped, 0.5) - ising.energy(s, 0.5))

    def test_8x8_has_63_classes(self):
        levels = ising.energy_levels(8)
        self.assertLen(levels, 63)
        self.assertEqual((levels[0], levels[1], levels[-2], levels[-1]), (-128, -120, 120, 128))

    def test_upscaling_is_lossless(self):
        s = np.random.default_rng(1).choice([-1, 1], size=(3, 4, 4))
        up = ising.upscale(s, 16)
        self.assertEqual(up.shape, (3, 16, 16))
        self.assertAllEqual(up[:, ::4, ::4], s)
        # each old bond becomes 4 bonds; each 4x4 block adds 24 satisfied internal bonds
        self.assertAllEqual(ising.energy(up), 4 * ising.energy(s) - 16 * 24)
        with self.assertRaisesRegex(InputError, "not a multiple"):
            ising.upscale(s, 10)


    def test_onsager_energy_at_known_points_and_limits(self):
        critical = np.log(1 + np.sqrt(2)) / 2  # Kramers-Wannier: sinh(2 beta_c J) = 1
        self.assertAllClose(ising.onsager_energy([critical, critical * (1 + 1e-9)]),
                            [-np.sqrt(2)] * 2, atol=1e-6)  # u(T_c) = -sqrt(2) J
        # low temperature, ln Z / N = 2 beta J + x^4 + 2 x^6 + 9/2 x^8 + ..., x = exp(-2 beta J):
        # one flipped spin costs 8J, two neighbours 12J, three in a line or an L or a 2x2 block
        # 16J (6 + 1 per site, less 5/2 for the pairs of single flips that touch)
        low = -2 + 8 * np.exp(-8) + 24 * np.exp(-12) + 72 * np.exp(-16)
        self.assertAllClose(ising.onsager_energy([1.0, -1.0]), [low, -low],
                            atol=2e-6)
        self.assertAllClose(ising.onsager_energy(0.5, J=2.0), ising.onsager_energy(1.0) * 2)
        # high temperature, ln Z / N = ln 2 + 2 ln cosh(beta J) + t^4 + 2 t^6 + ...,
        # t = tanh(beta J) (closed loops of 4 and 6 bonds: a plaquette, two dominoes per site)
        t = np.tanh(0.01)
        self.assertAllClose(ising.onsager_energy([0.0, 0.01]),
                            [0.0, -2 * t - 4 * t ** 3 * (1 - t * t)], atol=1e-8)

    def test_canonical_spread_at_infinite_temperature_and_from_the_4x4_density_of_states(self):
        # E/N = 0 is beta = 0: 2N independent bonds of +-1, var(E/N) = 2/N exactly
        self.assertAllClose(ising.canonical_spread([0.0], 4096), [np.sqrt(2 / 4096)], rtol=1e-6)
        # deep in the ordered phase the infinite-lattice spread is that of any lattice: compare
        # with the exact 4x4 canonical ensemble (Beale's density of states) at beta = 0.6
        levels = np.array(sorted(DOS_4X4), np.float64)
        weights = np.array([DOS_4X4[e] for e in levels]) * np.exp(-0.6 * (levels + 32))
        mean = (weights * levels).sum() / weights.sum()
        var = (weights * (levels - mean) ** 2).sum() / weights.sum()
        self.assertAllClose(ising.onsager_energy(0.6), mean / 16, rtol=1e-3)
        self.assertAllClose(ising.canonical_spread(mean / 16, 16), [np.sqrt(var) / 16],
                            rtol=0.01)
        with self.assertRaisesRegex(InputError, "-2J < E/N < 2J"):
            ising.canonical_spread([-2.0], 64)


class CouplingsTest(tf.test.TestCase):
    def test_edwards_anderson_energy_and_flip_deltas_match_a_loop(self):
        model = couplings.edwards_anderson(4, seed=3)
        again = couplings.edwards_anderson(4, seed=3)
        self.assertAllEqual(model.weights, again.weights)
        rng = np.random.default_rng(3)
        J = rng.normal(0, 1, 32)
        idx = np.arange(16).reshape(4, 4)
        edges = list(zip(idx.ravel(), np.roll(idx, -1, 1).ravel())) + \
            list(zip(idx.ravel(), np.roll(idx, -1, 0).ravel()))
        s = rng.choice([-1, 1], size=(5, 4, 4))
        want = np.array([brute_graph(x.ravel(), edges, J, np.zeros(16)) for x in s])
        self.assertAllClose(model.energy(s), want)
        self.assertAllClose(model.energy_tf(tf.constant(s)), want)
        delta = model.flip_delta(s)
        self.assertAllClose(model.flip_delta_tf(tf.constant(s)), delta)
        for b in range(5):
            for i in range(16):
                flipped = s[b].ravel().copy()
                flipped[i] *= -1
                self.assertAllClose(delta[b, i], brute_graph(flipped, edges, J, np.zeros(16)) - want[b])

    def test_weak_strong_clusters_minima_by_enumeration(self):
        model = couplings.weak_strong_clusters()
        bits = (np.arange(2 ** 16)[:, None] >> np.arange(16)) & 1
        configs = 2 * bits - 1
        energies = model.energy(configs)
        ground = configs[np.argmin(energies)]
        self.assertAllEqual(ground, np.ones(16))  # both clusters follow the strong field
        self.assertAllClose(energies.min(), -(32 + 4) - 8 * (1.0 - 0.44))
        local = np.array([1] * 8 + [-1] * 8)
        e_local = model.energy(local)[0]
        self.assertAllClose(e_local, -(32 - 4) - 8 * (1.0 + 0.44))
        self.assertTrue(np.all(model.flip_delta(local) > 0))  # a true local minimum
        self.assertAllClose(np.sort(np.unique(energies))[1], e_local)  # and the next lowest state

    def test_bad_input_is_named(self):
        with self.assertRaisesRegex(InputError, "self-couplings"):
            couplings.Couplings.from_edges(3, [0], [0], 1.0)
        with self.assertRaisesRegex(InputError, "NaN"):
            couplings.Couplings.from_edges(3, [0], [1], np.nan)
        with self.assertRaisesRegex(InputError, r"expected \(batch, 4, 4\)"):
            couplings.ising(4).energy(np.ones((2, 3, 3)))


class LongRangeTest(tf.test.TestCase):
    def test_kernel_equals_a_pair_by_pair_image_loop(self):
        L, r_cut, k = 3, 5.0, 0.7
        s = np.random.default_rng(2).choice([-1, 1], size=(L, L))
        total = 0.0
        for (a, b), (c, d) in itertools.product(itertools.product(range(L), repeat=2), repeat=2):
            for nx, ny in itertools.product(range(-3, 4), repeat=2):
                r = np.hypot(a - c - nx * L, b - d - ny * L)
                if 0 < r <= r_cut:
                    total += 0.5 * s[a, b] * s[c, d] * np.exp(-k * r) / r
        kernel = longrange.PeriodicKernel(L, "screened_coulomb", screening=k, r_cut=r_cut)
        self.assertAllClose(kernel.energy(s)[0], total, rtol=0, atol=1e-12)

    def test_kernel_equals_the_explicit_image_sum_at_the_thesis_cutoff(self):
        s = np.random.default_rng(4).choice([-1, 1], size=(6, 8, 8))
        for name in longrange.POTENTIALS:
            kernel = longrange.PeriodicKernel(8, name, screening=0.5)
            self.assertEqual(kernel.r_cut, 64.0)
            want = longrange.explicit_energy(s, name, screening=0.5)
            self.assertAllClose(kernel.energy(s), want, rtol=0, atol=1e-10)
            self.assertAllClose(kernel.energy_tf(tf.constant(s, tf.float64)), want, rtol=0, atol=1e-10)
            self.assertAllClose(kernel.couplings().energy(s), want, rtol=0, atol=1e-10)

    def test_screened_coulomb_is_antiferromagnetic(self):
        kernel = longrange.PeriodicKernel(8)
        checker = np.indices((8, 8)).sum(0) % 2 * 2 - 1
        random = np.random.default_rng(5).choice([-1, 1], size=(50, 8, 8))
        self.assertLess(kernel.energy(checker)[0], kernel.energy(random).min())
        self.assertLess(kernel.energy(checker)[0], kernel.energy(np.ones((8, 8)))[0])


class PottsTest(tf.test.TestCase):
    def test_energy_matches_a_bond_loop_and_the_aligned_limit(self):
        a = potts.random_configurations(4, 5, seed=0)
        self.assertTrue(np.all((a >= 0) & (a < np.pi)))
        want = [sum(np.cos(x[r, c] - x[r, (c + 1) % 5]) + np.cos(x[r, c] - x[(r + 1) % 5, c])
                    for r in range(5) for c in range(5)) for x in a]
        self.assertAllClose(potts.energy(a, J=1.3), 1.3 * np.array(want))
        self.assertAllClose(potts.energy_tf(tf.constant(a), J=1.3), 1.3 * np.array(want))
        self.assertAllClose(potts.energy(np.full((5, 5), 0.3)), [50.0])  # 2N aligned bonds


class ParameterCheckTest(tf.test.TestCase):
    """Physically invalid parameters are InputErrors naming the argument, in Python as on the
    command line (the CLIs build their models through the same constructors)."""

    def test_each_bad_argument_is_named(self):
        from tfphys.data import spins
        from tfphys.physics.spins import thermo
        from tfphys.physics.spins.metropolis import Metropolis

        nan = float("nan")
        cases = [
            (lambda: couplings.ising(3.5), "L must be an integer"),
            (lambda: couplings.ising(4, J=nan), "J must be a finite number"),
            (lambda: couplings.edwards_anderson(4, std=-1), "std must be > 0"),
            (lambda: Metropolis(couplings.ising(4), n_replicas=2.5), "n_replicas must be an integer"),
            (lambda: Metropolis(couplings.ising(4), n_replicas=0), "n_replicas must be >= 1"),
            (lambda: thermo.scan(couplings.ising(4), []), "temperatures must be one or more"),
            (lambda: thermo.scan(couplings.ising(4), [2.0, nan]), "temperatures must be"),
            (lambda: ising.energy(np.full((1, 4, 4), 2)), r"\+-1 spins, found \[2\]"),
            (lambda: ising.energy(np.zeros((4, 4))), r"\+-1 spins, found \[0.0\]"),
            (lambda: couplings.ising(4).energy(np.full((1, 4, 4), 3)), r"\+-1 spins"),
            (lambda: spins.SpinSource("screened_coulomb", 4, screening=nan), "screening must be a finite"),
            (lambda: spins.SpinSource("screened_coulomb", 4, screening=-1), "screening must be >= 0"),
            (lambda: spins.SpinSource("ising", 4, J=0), "J must not be 0"),
            (lambda: longrange.PeriodicKernel(4, r_cut=-2), "r_cut must be > 0"),
            (lambda: spins.generate(spins.SpinSource("ising", 4), "thermal", 3, temperature=nan),
             "temperature must be a finite"),
            (lambda: potts.PottsMetropolis(4, n_replicas=1.5), "n_replicas must be an integer"),
        ]
        for build, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(InputError, message):
                build()

    def test_the_antiferromagnet_is_valid_and_its_classes_are_the_mirrored_levels(self):
        from tfphys.data import spins

        checkerboard = np.where(np.indices((4, 4)).sum(0) % 2, 1, -1)[None]
        source = spins.SpinSource("ising", 4, J=-1.0)
        labels = source.labels(np.concatenate([checkerboard, np.ones((1, 4, 4), int)]))
        self.assertAllEqual(labels["energy"], [-32.0, 32.0])  # all 32 bonds satisfied / broken
        self.assertAllEqual(labels["label"], [0, 14])
        every = ising.all_configurations(4)
        self.assertAllEqual(np.unique(source.energy(every)), ising.energy_levels(4, -1.0))
