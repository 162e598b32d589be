"""The 2017 GAN's datasets against exact Ising facts, its scores against hand computations,
train_gan end to end at a tiny size, and bin/train_gan + bin/generate on its export."""

import os
import shutil

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.models import label_gan
from tfphys.physics.spins import ising
from tfphys.training import export
from tfphys.training.adversarial import gan_training

# 8x8 Ising energies: -128, -120, ..., 128 in steps of 4 except -124 and +124 (63 levels)
LEVELS_8 = sorted(set(range(-128, 129, 4)) - {-124, 124})


class DatasetsTest(tf.test.TestCase):
    def test_low_high_bimodal_and_uniform_energy_sets(self):
        low = gan_training.configurations("low", 8, 300, seed=0)
        high = gan_training.configurations("high", 8, 301, seed=0)
        bimodal = gan_training.configurations("bimodal", 8, 301, seed=0)
        uniform = gan_training.configurations("uniform", 8, 63 * 4, seed=0)
        self.assertEqual([len(low), len(high), len(bimodal)], [300, 301, 301])
        mode = lambda e: np.bincount((e + 128).astype(int) // 4).argmax() * 4 - 128  # noqa: E731
        self.assertEqual(mode(ising.energy(low)), -84)  # the level nearest -1.3 x 64
        self.assertEqual(mode(ising.energy(high)), 84)
        self.assertEqual(np.sum(ising.energy(bimodal) < 0), 150)
        self.assertAllEqual(np.unique(ising.energy(uniform)), LEVELS_8)
        self.assertAllEqual(np.bincount(np.searchsorted(LEVELS_8, ising.energy(uniform))),
                            np.full(63, 4))
        labels = ising.per_spin(low)
        self.assertAllClose(labels[:, 0], ising.energy(low) / 64)
        self.assertAllClose(labels[:, 1], low.mean(axis=(1, 2)))
        with self.assertRaisesRegex(InputError, "unknown GAN dataset 'middle'"):
            gan_training.configurations("middle", 8, 10)
        with self.assertRaisesRegex(InputError, "L = 4, 8, 16 or 32"):
            gan_training.preset_with("gan_low_quick", L=12)
        # model selection from the 6th epoch on, or from the last of a shorter run
        self.assertEqual(gan_training.preset_with("gan_low_quick").select_from, 6)
        self.assertEqual(gan_training.preset_with("gan_low_quick", epochs=4).select_from, 4)
        self.assertEqual(gan_training.preset_with("gan_low_quick", epochs=4,
                                                  select_from=2).select_from, 2)


class ScoresTest(tf.test.TestCase):
    def test_wasserstein_mode_share_and_roc_auc_by_hand(self):
        up = np.ones((4, 8, 8), np.int8)  # E/N = -2, m = 1
        down = -up  # E/N = -2, m = -1
        figures = gan_training.distributions(up, np.concatenate([up, down]))
        self.assertAllClose(figures["w1_energy"], 0.0)
        self.assertAllClose(figures["w1_magnetization"], 1.0)  # half the mass moves by 2
        self.assertEqual(figures["low_mode_fraction"], 1.0)
        checker = np.where(np.indices((8, 8)).sum(0) % 2, 1, -1)[None].astype(np.int8)  # E/N = +2
        mixed = gan_training.distributions(np.concatenate([up, checker]), up)
        self.assertAllClose(mixed["w1_energy"], 4 * 1 / 5)
        self.assertAllClose(mixed["low_mode_fraction"], 0.8)
        scores = np.array([0.9, 0.8, 0.7, 0.1])
        self.assertEqual(gan_training.roc_auc(scores, [True, True, False, False]), 1.0)
        self.assertEqual(gan_training.roc_auc(scores, [False, False, True, True]), 0.0)
        self.assertEqual(gan_training.roc_auc(scores, [True, False, True, False]), 0.75)
        self.assertEqual(gan_training.roc_auc(np.ones(4), [True, False, True, False]), 0.5)
        with self.assertRaisesRegex(InputError, "inside and outside"):
            gan_training.roc_auc(scores, [True] * 4)
        self.assertAllEqual(gan_training.inside(np.array([-2.0, -1.3, 0.0]),
                                                np.linspace(-1.5, -1.0, 1001)), [False, True, False])


class RejectionTest(tf.test.TestCase):
    @staticmethod
    def random_lattices():
        """A stand-in generator: noise (2, 2, 128) -> an 8x8 lattice of random-looking signs."""
        noise = tf.keras.Input(label_gan.NOISE_SHAPE)
        out = tf.keras.layers.Dense(64, kernel_initializer=tf.keras.initializers.RandomNormal(
            seed=1))(tf.keras.layers.Flatten()(noise))
        return tf.keras.Model(noise, tf.keras.layers.Reshape((8, 8, 1))(out))

    @staticmethod
    def judge(logit):
        """A stand-in discriminator: real/fake logit `logit(spins (n, 8, 8))`, two zero labels."""
        spins = tf.keras.Input((8, 8, 1))
        out = tf.keras.layers.Lambda(lambda x: tf.stack(
            [logit(x[..., 0]), tf.zeros(tf.shape(x)[:1]), tf.zeros(tf.shape(x)[:1])], 1))(spins)
        return tf.keras.Model(spins, out)

    def test_samples_with_dropout_off_unless_asked_as_the_thesis_infers(self):
        noise = tf.keras.Input(label_gan.NOISE_SHAPE)
        dropped = tf.keras.layers.Dropout(0.3)(tf.keras.layers.Flatten()(noise))
        generator = tf.keras.Model(noise, tf.keras.layers.Reshape((8, 8, 1))(
            tf.keras.layers.Dense(64)(dropped)))
        z = label_gan.NOISE_STDDEV * np.random.default_rng(4).normal(
            size=(50, *label_gan.NOISE_SHAPE)).astype(np.float32)
        plain = np.where(generator(z, training=False).numpy()[..., 0] >= 0, 1, -1)
        self.assertAllEqual(gan_training.generate(generator, 50, seed=4), plain)
        self.assertNotAllEqual(gan_training.generate(generator, 50, seed=4, dropout=True), plain)

    def test_rejection_keeps_what_the_discriminator_trusts_and_ignores_the_spin_flip(self):
        generator = self.random_lattices()
        candidates = gan_training.generate(generator, 4096, seed=5)
        energy = ising.per_spin(candidates)[:, 0]
        # logit -1000 E/N: every candidate at or below the first batch's median energy is kept,
        # every one above it (by at least one level, 4/64) has probability exp(-62.5)
        low = self.judge(lambda s: -1000.0 * ising.energy_tf(s) / 64)
        kept = gan_training.generate(generator, 700, seed=5, discriminator=low, cap=50)
        median = np.median(energy[:1024])
        self.assertAllEqual(kept, candidates[energy <= median][:700])
        # a logit odd under the spin flip averages to 0 over x and -x: nothing is rejected
        odd = self.judge(lambda s: 1000.0 * tf.reduce_mean(s, axis=[1, 2]))
        self.assertAllEqual(gan_training.generate(generator, 300, seed=5, discriminator=odd),
                            candidates[:300])
        with self.assertRaisesRegex(InputError, "cap must be a percentile below 100, got 100"):
            gan_training.generate(generator, 3, discriminator=low, cap=100)
        with self.assertRaisesRegex(InputError, "no exported model at"):
            gan_training.exported_discriminator(os.path.join(self.get_temp_dir(), "none"))


class TrainGanTest(tf.test.TestCase):
    def test_train_export_plot_and_generate(self):
        preset = gan_training.preset_with("gan_bimodal_quick", train_examples=77,
                                          test_examples=126, epochs=2, switch_epoch=1,
                                          batch_size=32, generator_filters=4,
                                          discriminator_filters=4)
        model_dir = os.path.join(self.get_temp_dir(), "gen")
        result = gan_training.train_gan(preset, export_dir=model_dir, verbose=0, samples=50)
        self.assertEqual(result["examples"], 77)
        self.assertBetween(result["distributions"]["low_mode_fraction"], 0.0, 1.0)
        self.assertBetween(result["anomaly"]["auc"], 0.0, 1.0)
        self.assertEqual(result["arrays"]["generated"].shape, (50, 2))
        facts = export.metadata(f"{model_dir}_discriminator")
        self.assertEqual(facts["kind"], "gan_discriminator")
        out = os.path.join(self.get_temp_dir(), "s.npz")
        proc = testing.run_script("generate", f"--model={model_dir}", "--count=7", f"--out={out}",
                                  "--rejection")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        with np.load(out) as saved:
            self.assertEqual(saved["spins"].shape, (7, 8, 8))
            self.assertTrue(np.all(np.abs(saved["spins"]) == 1))
        proc = testing.run_script("evaluate", f"--model={model_dir}", "--count=40")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("gan_bimodal_quick: 40 generated vs 10000 training", proc.stdout)
        self.assertIn("40 kept by discriminator rejection sampling", proc.stdout)
        alone = os.path.join(self.get_temp_dir(), "alone")  # the generator copied without it
        shutil.copytree(model_dir, alone)
        proc = testing.run_script("evaluate", f"--model={alone}", "--count=40")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("40 generated vs 10000 training", proc.stdout)
        self.assertIn("rejection sampling not scored", proc.stdout)
        self.assertBetween(result["rejection"]["low_mode_fraction"], 0.0, 1.0)
        self.assertBetween(result["with_dropout"]["w1_energy"], 0.0, 4.0)
        for flag in ("--corrections=1", "--best_of=2"):
            proc = testing.run_script("evaluate", f"--model={model_dir}", flag)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("is a gan_generator export", proc.stderr)
        for args, message in ((["--energy=-1"], "unconditional"), (["--size=16"], "only 8x8"),
                              (["--best_of=2"], "not one"), (["--corrections=1"], "not one")):
            proc = testing.run_script("generate", f"--model={model_dir}", *args)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn(message, proc.stderr)

    def test_bin_train_gan_prints_figures_and_draws_them(self):
        plot = os.path.join(self.get_temp_dir(), "gan.png")
        proc = testing.run_script("train_gan", "--preset=gan_high_quick", "--train_examples=45",
                                  "--test_examples=63", "--epochs=1", "--batch_size=16",
                                  f"--plot={plot}", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("generated vs training: {\"w1_energy\"", proc.stdout)
        self.assertIn("kept by discriminator rejection sampling vs training", proc.stdout)
        self.assertIn("generated with the generator's dropout on vs training", proc.stdout)
        self.assertIn("\"auc\"", proc.stdout)
        self.assertTrue(os.path.getsize(plot) > 0)
