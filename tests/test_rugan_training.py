"""train_rugan end to end at a tiny size, the exact scoring of conditioning, and bin/generate."""

import dataclasses
import glob
import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.models import gan
from tfphys.physics.spins import ising
from tfphys.training import export
from tfphys.training.adversarial import rugan_training
from tfphys.training.fit import start_from


class LabelsTest(tf.test.TestCase):
    def test_labels_are_the_exact_energy_and_magnetization_per_spin(self):
        preset = dataclasses.replace(rugan_training.PRESETS["rugan_quick"], L=8,
                                     train_examples=101, test_examples=13)
        spins, labels = rugan_training.labelled(preset, "train", seed=0)
        self.assertEqual(spins.shape, (101, 8, 8))
        self.assertAllClose(labels[:, 0], ising.energy(spins) / 64)
        self.assertAllClose(labels[:, 1], spins.mean(axis=(1, 2)))
        self.assertEqual(rugan_training.labelled(preset, "test", seed=0)[0].shape, (13, 8, 8))

    def test_conditioning_scores_what_a_known_generator_makes(self):
        # a "generator" that always returns the all-up lattice: E/N = -2, m = 1 exactly
        latent = tf.keras.Input((None, None, 3))
        label = tf.keras.Input((2,))
        up = tf.keras.layers.UpSampling2D(4)(tf.keras.layers.Conv2D(
            1, 1, kernel_initializer="zeros", bias_initializer="ones")(latent))
        always_up = tf.keras.Model([latent, label], up)
        figures = rugan_training.conditioning(always_up, np.float32([[-2, 1], [-1.5, 0.5]]), 12)
        self.assertAllClose([figures["median_energy_error"], figures["median_magnetization_error"]],
                            [0.25, 0.25])
        # it copies the all-up training configuration and never varies
        training = np.stack([np.ones((12, 12)), -np.ones((12, 12))]).astype(np.int8)
        copies = rugan_training.novelty(always_up, np.float32([[-2, 1]] * 3), training)
        self.assertEqual(copies, {"median_nearest_training_distance": 0.0,
                                  "within_label_diversity": 0.0})
        checkerboard = np.where(np.indices((12, 12)).sum(0) % 2, 1, -1)[None].astype(np.int8)
        far = rugan_training.novelty(always_up, np.float32([[-2, 1]]), checkerboard)
        self.assertEqual(far["median_nearest_training_distance"], 0.5)
        with self.assertRaisesRegex(InputError, "not a multiple of 4 \\(try 8 or 12\\)"):
            rugan_training.generate(always_up, np.zeros((1, 2), np.float32), 10)


class MissDecompositionTest(tf.test.TestCase):
    def test_bias_and_spread_of_generators_with_known_statistics(self):
        latent = tf.keras.Input((None, None, 3))
        label = tf.keras.Input((2,))
        up = tf.keras.layers.UpSampling2D(4)(tf.keras.layers.Conv2D(
            1, 1, kernel_initializer="zeros", bias_initializer="ones")(latent))
        always_up = tf.keras.Model([latent, label], up)  # E/N = -2, m = 1, every draw
        labels = np.float32([[-1.5, 0.5], [0.25, -0.125]])
        parts = rugan_training.miss_decomposition(always_up, labels, 12, draws=3)
        self.assertAllClose(parts["bias"], [[-0.5, 0.5], [-2.25, 1.125]])
        self.assertAllEqual(parts["spread"], np.zeros((2, 2)))
        self.assertEqual(parts["unbiased_energy_error"], 0.0)
        # independent random 4x4 blocks on a 16x16 torus: 16 blocks of 24 bonds always satisfied,
        # 32 block bonds of 4 spin bonds each, s_a s_b pairwise uncorrelated: E/N = -384 / 256
        # on average, sd(E/N) = 4 sqrt(32) / 256, m = 0 on average, sd(m) = 1/4
        pick = tf.keras.layers.Conv2D(1, 1, kernel_initializer=tf.keras.initializers.Constant(
            [[[[1.0], [0.0], [0.0]]]]))(latent)
        blocks = tf.keras.Model([latent, label], tf.keras.layers.UpSampling2D(4)(pick))
        parts = rugan_training.miss_decomposition(blocks, labels[:1], 16, draws=800, seed=2)
        self.assertAllClose(parts["spread"][0], [4 * 32 ** 0.5 / 256, 0.25], rtol=0.08)
        # the mean miss within 3 standard errors of 800 draws (0.0094 and 0.0265)
        errors = 3 * np.array([4 * 32 ** 0.5 / 256, 0.25]) / 800 ** 0.5
        self.assertAllLessEqual(np.abs(parts["bias"][0] - [-1.5 + 1.5, 0 - 0.5]) - errors, 0)
        with self.assertRaisesRegex(InputError, "draws must be >= 2"):
            rugan_training.miss_decomposition(blocks, labels, 16, draws=1)


class BestOfTest(tf.test.TestCase):
    def test_best_of_keeps_the_candidate_closest_to_each_request(self):
        # a "generator" of random 4x4-block lattices: the sign of its first latent channel
        latent = tf.keras.Input((None, None, 3))
        label = tf.keras.Input((2,))
        pick = tf.keras.layers.Conv2D(1, 1, kernel_initializer=tf.keras.initializers.Constant(
            [[[[1.0], [0.0], [0.0]]]]))(latent)
        blocks = tf.keras.Model([latent, label], tf.keras.layers.UpSampling2D(4)(pick))
        labels = np.float32([[-1.0, 0.2], [0.0, 0.0], [-0.5, -0.3]])
        candidates = rugan_training.generate(blocks, np.repeat(labels, 5, axis=0), 16, seed=3)
        best = rugan_training.generate(blocks, labels, 16, seed=3, best_of=5)
        miss = np.abs(ising.per_spin(candidates) - np.repeat(labels, 5, axis=0)).sum(axis=1)
        for i in range(3):
            k = 5 * i + int(np.argmin(miss[5 * i:5 * i + 5]))
            self.assertAllEqual(best[i], candidates[k])
        with self.assertRaisesRegex(InputError, "best_of must be >= 1, got 0"):
            rugan_training.generate(blocks, labels, 16, best_of=0)


def threshold_generator():
    """A "generator" of 4x4-block lattices: block sign of z_0 + 2 m_requested (its first latent
    channel), so its magnetization rises with the m it is asked for and its latent shifts it."""
    latent = tf.keras.Input((None, None, 3))
    label = tf.keras.Input((2,))
    planes = gan.LabelChannels()([latent, label])
    field = tf.keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=tf.keras.initializers
                                   .Constant([[[[1.0], [0.0], [0.0], [0.0], [2.0]]]]))(planes)
    return tf.keras.Model([latent, label], tf.keras.layers.UpSampling2D(4)(field))


class CorrectionsTest(tf.test.TestCase):
    def test_each_correction_asks_again_from_the_same_latent_by_what_was_missed(self):
        g = threshold_generator()
        labels = np.float32([[-1.0, 0.2], [0.0, 0.0], [-0.5, -0.3]])
        first = rugan_training.generate(g, labels, 16, seed=3)
        latent = np.random.default_rng(3).normal(size=(3, 4, 4, 3)).astype(np.float32)
        again = (labels + labels - ising.per_spin(first)).astype(np.float32)
        expected = np.where(g([latent, again]).numpy()[..., 0] >= 0, 1, -1)
        self.assertAllEqual(rugan_training.generate(g, labels, 16, seed=3, corrections=1),
                            expected)
        with self.assertRaisesRegex(InputError, "corrections must be >= 0, got -1"):
            rugan_training.generate(g, labels, 16, corrections=-1)

    def test_corrections_narrow_the_miss_of_a_generator_monotone_in_its_label(self):
        g = threshold_generator()
        labels = np.repeat(np.float32([[0.0, -0.3], [0.0, 0.0], [0.0, 0.4]]), 20, axis=0)
        miss = [np.median(np.abs(ising.per_spin(rugan_training.generate(
            g, labels, 64, seed=5, corrections=c))[:, 1] - labels[:, 1])) for c in (0, 3)]
        self.assertLess(miss[1], 0.5 * miss[0])


class RegionsAndMapTest(tf.test.TestCase):
    def test_physical_labels_and_the_fig6_region(self):
        e = np.array([-2.0, 2.0, 0.0, -2.1, 1.5, -1.0])
        m = np.array([1.0, 0.0, 0.5, 0.0, 0.5, 1.1])
        # checkerboard (2, 0) and all-up (-2, 1) exist; (1.5, 0.5) would need more unsatisfied
        # bonds than 2 - 4|m| allows; E/N < -2 or |m| > 1 never
        self.assertAllEqual(rugan_training.physical(e, m), [True, True, True, False, False, False])
        labels = np.float32([[-1.5, 0.1], [0.5, -0.2], [-0.5, 0.0], [-1.5, 0.5], [0.0, 0.25]])
        self.assertAllEqual(rugan_training.in_region("fig6", labels), [True, True, False, False, True])
        with self.assertRaisesRegex(InputError, "unknown label region 'elsewhere'"):
            rugan_training.in_region("elsewhere", labels)

    def test_region_presets_train_only_inside_and_test_inside(self):
        preset = dataclasses.replace(rugan_training.PRESETS["rugan_quick_regions"], L=8,
                                     train_examples=101, test_examples=64)
        for split, count in (("train", 101), ("test", None)):
            spins, labels = rugan_training.labelled(preset, split, seed=0)
            self.assertTrue(np.all(rugan_training.in_region("fig6", labels)))
            self.assertAllClose(labels[:, 0], ising.energy(spins) / 64)
            if count:
                self.assertLen(spins, count)

    def test_error_map_of_a_generator_that_always_makes_all_up(self):
        latent = tf.keras.Input((None, None, 3))
        label = tf.keras.Input((2,))
        up = tf.keras.layers.UpSampling2D(4)(tf.keras.layers.Conv2D(
            1, 1, kernel_initializer="zeros", bias_initializer="ones")(latent))
        always_up = tf.keras.Model([latent, label], up)
        maps = rugan_training.error_map(always_up, 8, energies=[-2.0, 0.0, 1.9],
                                        magnetizations=[0.0, 1.0], per_point=3)
        self.assertAllClose(maps["energy_error"], [[0.0, 0.0], [2.0, np.nan], [3.9, np.nan]])
        self.assertAllClose(maps["magnetization_error"], [[1.0, 0.0], [1.0, np.nan], [1.0, np.nan]])
        # inside fig6: (-2, 0) and (0, 0); (1.9, 0) too; outside: (-2, 1) only
        figures = rugan_training.region_errors(maps, "fig6")
        self.assertAllClose([figures["energy_inside"], figures["energy_outside"]], [2.0, 0.0])
        self.assertAllClose([figures["magnetization_inside"], figures["magnetization_outside"]],
                            [1.0, 0.0])


class StartFromExportTest(tf.test.TestCase):
    def test_a_run_at_a_larger_lattice_starts_from_every_exported_network(self):
        small = dataclasses.replace(rugan_training.PRESETS["rugan_quick_regressor"], L=8,
                                    train_examples=40, test_examples=8, epochs=1, batch_size=32,
                                    filters=4, latent_channels=2, critic_steps=1)
        first = os.path.join(self.get_temp_dir(), "gen8")
        rugan_training.train_rugan(small, export_dir=first, verbose=0)
        self.assertEqual(export.metadata(f"{first}_regressor")["kind"], "rugan_regressor")
        # a vanishing learning rate: what the run exports is what it started from (also the
        # debiased weight average of unchanging weights)
        larger = dataclasses.replace(small, L=16, learning_rate=1e-30, average=0.5)
        second = os.path.join(self.get_temp_dir(), "gen16")
        result = rugan_training.train_rugan(larger, export_dir=second, init=first, verbose=0)
        self.assertEqual(sorted(result["figures"]), [16, 64])
        self.assertEqual(export.metadata(second)["L"], 16)
        fresh = rugan_training.build(larger)
        for suffix, network in (("", fresh.generator), ("_critic", fresh.critic),
                                ("_regressor", fresh.regressor)):
            started, trained = export.load(first + suffix), export.load(second + suffix)
            for before, after in zip(started.trainable_weights, trained.trainable_weights):
                self.assertAllClose(before, after, atol=1e-6)
            self.assertFalse(all(np.allclose(a, b) for a, b in zip(started.weights,
                                                                   network.weights)))
        # reach blocks grown onto the exported generator start as nothing: the same lattices
        grown = dataclasses.replace(larger, reach=2, average=0.0)
        third = os.path.join(self.get_temp_dir(), "grown16")
        rugan_training.train_rugan(grown, export_dir=third, init=first, verbose=0)
        z = np.random.default_rng(0).normal(size=(3, 4, 4, 2)).astype(np.float32)
        labels = np.array([[-1.5, 0.0], [0.0, 0.2], [0.5, -0.3]], np.float32)
        self.assertAllClose(export.load(third)([z, labels]), export.load(first)([z, labels]),
                            atol=1e-5)
        self.assertEqual(rugan_training.exported_preset(export.metadata(third)).reach, 2)
        with self.assertRaisesRegex(InputError, "holds 24 weights, this model 16: it was "
                                                "trained with another architecture"):
            start_from(fresh.generator, third, export.load(third).weights, grown=gan.REACH)
        tf.io.gfile.rmtree(f"{first}_regressor")
        with self.assertRaisesRegex(InputError, "gen8_regressor missing.*--label_weight 0 or "
                                                "--label_measure exact"):
            rugan_training.starting_weights(first, larger)
        rugan_training.starting_weights(first, dataclasses.replace(larger, label_weight=0.0))
        exact = dataclasses.replace(larger, label_measure="exact")
        self.assertEqual(sorted(rugan_training.starting_weights(first, exact)),
                         ["critic", "generator"])  # the exact labels fit nothing, export nothing
        self.assertEqual(sorted(rugan_training.network_exports("g", exact)),
                         ["critic", "generator"])
        self.assertIsNone(rugan_training.build(exact).regressor)
        with self.assertRaisesRegex(InputError, "--label_measure guess: choose one of "):
            dataclasses.replace(larger, label_measure="guess")
        # an exact run exported over `second` leaves its old regressor folder behind: not taken
        rugan_training.train_rugan(dataclasses.replace(small, label_measure="exact"),
                                   export_dir=second, verbose=0)
        self.assertTrue(os.path.isdir(f"{second}_regressor"))
        with self.assertRaisesRegex(InputError, "gen16_regressor missing or not from the run"):
            rugan_training.starting_weights(second, larger)
        with self.assertRaisesRegex(InputError, "is a rugan_critic export; this run needs a "
                                                "rugan_generator"):
            rugan_training.starting_weights(f"{first}_critic", larger)
        with self.assertRaisesRegex(InputError, "--L 18: .* multiple of 4"):
            rugan_training.preset_with("rugan_quick", L=18)
        with self.assertRaisesRegex(InputError, "--average is the momentum .* got 1.5"):
            rugan_training.preset_with("rugan_quick", average=1.5)
        with self.assertRaisesRegex(InputError, "--reach -1: give 0 .* to 8 dilated blocks"):
            rugan_training.preset_with("rugan_quick", reach=-1)


class TrainAndGenerateTest(tf.test.TestCase):
    def test_train_export_and_generate_at_four_times_the_size(self):
        preset = dataclasses.replace(rugan_training.PRESETS["rugan_quick"], L=8, train_examples=96,
                                     test_examples=16, epochs=1, batch_size=32, filters=4,
                                     latent_channels=2, critic_steps=1, average=0.9)
        model_dir = os.path.join(self.get_temp_dir(), "gen")
        run_dir = os.path.join(self.get_temp_dir(), "run")
        result = rugan_training.train_rugan(preset, run_dir=run_dir, export_dir=model_dir, verbose=0)
        self.assertEqual(result["best_epoch"], 1)
        self.assertNotEmpty(glob.glob(os.path.join(run_dir, "tensorboard", "pictures", "events*")))
        self.assertTrue(os.path.exists(os.path.join(run_dir, "best.json")))
        self.assertEqual(sorted(result["figures"]), [8, 32])
        self.assertEqual(result["figures"][32]["count"], 16)
        self.assertBetween(result["novelty"]["within_label_diversity"], 0.0, 1.0)
        self.assertEqual(export.metadata(f"{model_dir}_critic")["kind"], "rugan_critic")
        out = os.path.join(self.get_temp_dir(), "s.npz")
        run = lambda *a: testing.run_script("generate", f"--model={model_dir}", *a)  # noqa: E731
        proc = run("--energy=-1.0", "--magnetization=0.5", "--size=32", "--count=5", f"--out={out}",
                   f"--plot={self.get_temp_dir()}/s.png", "--best_of=3", "--corrections=2")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        with np.load(out) as saved:
            self.assertEqual(saved["spins"].shape, (5, 32, 32))
            self.assertTrue(np.all(np.abs(saved["spins"]) == 1))
            self.assertAllEqual(saved["energy"], np.full(5, -1.0))
        plot = os.path.join(self.get_temp_dir(), "map.png")
        proc = testing.run_script("evaluate", f"--model={model_dir}", f"--plot={plot}",
                                  "--corrections=1")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("rugan_quick conditioning at 32x32", proc.stdout)
        self.assertIn("error map over the (E/N, m) plane", proc.stdout)
        self.assertGreater(os.path.getsize(plot), 0)
        for args, message in ((["--size=30"], "multiple of 4 such as 28 or 32"),
                              ([], "needs --energy and --magnetization"),
                              (["--energy=2.5"], "outside the Ising model's range"),
                              (["--magnetization=nan"], "--magnetization must be a finite"),
                              (["--count=0"], "--count must be >= 1"),
                              (["--best_of=0"], "--best_of must be >= 1"),
                              (["--corrections=-1"], "--corrections must be >= 0"),
                              (["--rejection"], "filters the 2017 GAN's samples"),
                              (["--calculator=gfn1"], "score sheets")):
            proc = run(*(args if not args else ["--energy=-1", "--magnetization=0", *args]))
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertLen(proc.stderr.strip().splitlines(), 1, proc.stderr)
            self.assertIn(message, proc.stderr)
