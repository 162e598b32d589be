"""The 2017 GAN's networks (shapes, layer counts, dropout placement), its loss against a hand
computation, the gamma switch, exact resume through fit.train, and a safe export round trip."""

import os

import numpy as np
import tensorflow as tf

from tfphys import testing

from tfphys.models import gan, label_gan
from tfphys.models.padding import PeriodicConv2DTranspose
from tfphys.physics.spins import ising
from tfphys.training import export
from tfphys.training.fit import TrainConfig, train


def ising_examples(n, L=8, seed=0):
    s = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, L, L)).astype(np.float32)
    labels = np.stack([ising.energy(s) / L ** 2, s.mean(axis=(1, 2))], axis=1).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((s[..., None], labels))


def tiny(switch_step=0, **loss):
    tf.keras.utils.set_random_seed(3)
    return label_gan.LabelGAN(label_gan.generator(8, filters=4), label_gan.discriminator(8, 2, 4),
                              switch_step=switch_step, learning_rate=1e-3, seed=2, **loss)


def without_dropout(model):
    """`model` with every dropout rate 0, so that a hand computation can repeat its step."""
    for net in (model.generator, model.discriminator):
        for layer in _layers(net, gan.CountedDropout):
            layer.rate = 0.0
    return model


def _layers(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


class NetworksTest(tf.test.TestCase):
    def test_the_thesis_layer_plan(self):
        g = label_gan.generator(8, filters=8)
        self.assertLen(_layers(g, PeriodicConv2DTranspose), 7)
        self.assertLen(_layers(g, gan.CountedDropout), 5)  # after all but the last two
        self.assertTrue(all(layer.activation is tf.keras.activations.tanh
                            for layer in _layers(g, PeriodicConv2DTranspose)))
        self.assertAllClose([d.rate for d in _layers(g, gan.CountedDropout)], [0.3] * 5)
        d = label_gan.discriminator(8, labels=2, filters=4)
        self.assertLen(_layers(d, tf.keras.layers.Conv2D), 9)
        self.assertLen(_layers(d, tf.keras.layers.Dense), 2)
        self.assertLen(_layers(d, gan.CountedDropout), 1)
        noise = np.random.default_rng(0).normal(size=(3, 2, 2, 128)).astype(np.float32)
        for L in (4, 8, 16):
            out = label_gan.generator(L, filters=4)(noise).numpy()
            self.assertEqual(out.shape, (3, L, L, 1))
            self.assertTrue(np.all(np.abs(out) < 1))
        self.assertEqual(d(out[:, :8, :8]).shape, (3, 3))
        with self.assertRaisesRegex(ValueError, "L = 4, 8, 16 or 32"):
            label_gan.generator(12)

    def test_export_and_safe_reload(self):
        model = tiny()
        noise = np.random.default_rng(1).normal(size=(2, 2, 2, 128)).astype(np.float32)
        for net, x in ((model.generator, noise),
                       (model.discriminator, np.ones((2, 8, 8, 1), np.float32))):
            path = os.path.join(self.get_temp_dir(), net.name)
            export.export(net, path, {"kind": net.name})
            self.assertAllClose(export.load(path)(x), net(x), atol=1e-6)
            reloaded = tf.saved_model.load(path)
            self.assertAllClose(reloaded(x, training=False), net(x), atol=1e-6)  # plain TF


class FlipAveragedTest(tf.test.TestCase):
    def test_even_outputs_keep_their_even_part_and_odd_ones_their_odd_part(self):
        # outputs (m + E/N, m, m + 1): flip-averaged with parities (1, 1, -1) they become
        # (E/N, 0, m); the confidence is then the sigmoid of E/N
        spins = tf.keras.Input((4, 4, 1))
        m = tf.reduce_mean(spins, axis=[1, 2, 3])
        e = ising.energy_tf(spins[..., 0]) / 16
        judge = tf.keras.Model(spins, tf.stack([m + e, m, m + 1], 1))
        lattices = np.where(np.random.default_rng(0).random((5, 4, 4, 1)) < 0.7, 1.0, -1.0)
        exact = ising.per_spin(lattices[..., 0])
        self.assertAllClose(label_gan.flip_averaged(judge, lattices),
                            np.stack([exact[:, 0], np.zeros(5), exact[:, 1]], 1))
        pair = label_gan.LabelGAN(label_gan.generator(8, 4), judge)
        labels, confidence = pair.confidence(lattices.astype(np.float32))
        self.assertAllClose(confidence, tf.sigmoid(exact[:, 0]))
        self.assertAllClose(pair.confidence(lattices.astype(np.float32), False)[1],
                            tf.sigmoid(exact[:, 1] + exact[:, 0]))


class TrainStepTest(tf.test.TestCase):
    def test_losses_match_a_hand_computation_and_gamma_switches(self):
        model = tiny(switch_step=2)
        model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
        real = np.random.default_rng(2).choice([-1.0, 1.0], size=(5, 8, 8, 1)).astype(np.float32)
        labels = np.float32(np.random.default_rng(3).uniform(-1, 1, size=(5, 2)))
        # the label loss on the real batch, before the step changes the discriminator
        out = model.discriminator(real, training=False).numpy()
        model.discriminator.get_layer("dense_dropout").rate = 0.0  # deterministic, as by hand
        expected = np.mean(np.sum([0.25, 1.0] * (out[:, 1:] - labels) ** 2, axis=1))
        gammas = []
        for _ in range(4):
            logs = model.train_on_batch(real, labels, return_dict=True)
            label_part = logs["discriminator_loss"] - 0.5 * logs["gan_loss"]
            gammas.append(label_part / logs["label_loss"])
            if len(gammas) == 1:
                self.assertAllClose(logs["label_loss"], expected, rtol=1e-4)
        self.assertAllClose(gammas, [0.5, 0.5, 0.02, 0.02], rtol=1e-3)
        self.assertEqual(int(model.critic_optimizer.iterations), 4)
        self.assertEqual(int(model.generator_optimizer.iterations), 4)
        # the generator learns 5x faster than the discriminator, Adam with default betas
        self.assertAllClose(float(model.generator_optimizer.learning_rate),
                            5 * float(model.critic_optimizer.learning_rate))

    def test_sorted_matching_is_the_squared_2_wasserstein_distance_label_by_label(self):
        # a batch collapsed onto one mode against a bimodal one: every sample is 1 away
        collapsed = tf.constant([[-1.0, 0.5], [-1.0, 0.5], [-1.0, 0.5], [-1.0, 0.5]])
        bimodal = tf.constant([[1.0, 0.5], [-1.0, 0.5], [1.0, 0.5], [-1.0, 0.5]])
        self.assertAllClose(label_gan.sorted_matching(collapsed, bimodal, [0.25, 1.0]),
                            0.25 * (0 + 0 + 4 + 4) / 4)
        # order within a batch does not matter; equal distributions cost nothing
        self.assertAllClose(label_gan.sorted_matching(bimodal[::-1], bimodal, [1.0, 1.0]), 0.0)
        made = np.random.default_rng(0).normal(size=(9, 2)).astype(np.float32)
        seen = np.random.default_rng(1).normal(size=(9, 2)).astype(np.float32)
        hand = sum(w * np.mean((np.sort(made[:, j]) - np.sort(seen[:, j])) ** 2)
                   for j, w in enumerate((0.25, 1.0)))
        self.assertAllClose(label_gan.sorted_matching(made, seen, [0.25, 1.0]), hand, rtol=1e-5)

    def test_feature_matching_adds_a_weighted_nonnegative_term_to_the_generator_loss(self):
        real = np.random.default_rng(4).choice([-1.0, 1.0], size=(6, 8, 8, 1)).astype(np.float32)
        labels = np.float32(np.random.default_rng(5).uniform(-1, 1, size=(6, 2)))
        losses = {}
        for weight in (0.0, 10.0, 20.0):
            model = tiny(feature_matching=weight)
            model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
            logs = model.train_on_batch(real, labels, return_dict=True)
            losses[weight] = logs["generator_loss"]
            # the discriminator's step does not depend on the weight
            self.assertAllClose(logs["discriminator_loss"],
                                losses.setdefault("d", logs["discriminator_loss"]))
        self.assertGreater(losses[10.0] - losses[0.0], 0)
        self.assertAllClose(losses[20.0] - losses[0.0], 2 * (losses[10.0] - losses[0.0]), rtol=1e-3)

    def test_exact_matching_adds_the_sorted_matching_of_the_generated_lattices_energies(self):
        real = np.random.default_rng(4).choice([-1.0, 1.0], size=(6, 8, 8, 1)).astype(np.float32)
        labels = np.float32(np.random.default_rng(5).uniform(-1, 1, size=(6, 2)))
        losses = {}
        for weight in (0.0, 10.0):
            model = without_dropout(tiny(exact_matching=weight))
            model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
            # the generator's step draws noise 1 of step 0 and is not changed before its loss
            made = model.generator(model.noise(6, 1), training=True).numpy()[..., 0]
            signs = np.where(made >= 0, 1.0, -1.0)
            exact = np.stack([ising.energy(signs) / 64, signs.mean(axis=(1, 2))], axis=1)
            hand = sum(w * np.mean((np.sort(exact[:, j]) - np.sort(labels[:, j])) ** 2)
                       for j, w in enumerate((0.25, 1.0)))
            logs = model.train_on_batch(real, labels, return_dict=True)
            losses[weight] = logs["generator_loss"]
            self.assertAllClose(logs["discriminator_loss"],
                                losses.setdefault("d", logs["discriminator_loss"]))
        self.assertGreater(hand, 0.01)
        self.assertAllClose(losses[10.0] - losses[0.0], 10 * hand, rtol=1e-4)

    def test_outliers_are_real_lattices_partly_flipped_and_shown_as_fakes(self):
        real = np.random.default_rng(6).choice([-1.0, 1.0], size=(600, 8, 8, 1)).astype(np.float32)
        model = tiny(outliers=0.5)
        model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
        moved = model.corrupted(tf.constant(real)).numpy()
        self.assertAllEqual(np.abs(moved), np.ones_like(real))
        flipped = (moved != real).mean(axis=(1, 2, 3))  # at most U(0, 0.5) per lattice
        self.assertLessEqual(flipped.max(), 0.75)
        self.assertGreater(np.mean(flipped < 0.1), 0.1)  # the share itself varies
        self.assertAllEqual(model.corrupted(tf.constant(real)), moved)  # stateless: one per step
        change = ising.energy(moved[..., 0]) - ising.energy(real[..., 0])
        self.assertGreater(np.mean(change < 0), 0.3)  # fakes below and above the real energies
        self.assertGreater(np.mean(change > 0), 0.3)
        # from the ground state no flip lowers the energy, from the checkerboard (the top of
        # the spectrum) none raises it: a third of lattices (and those with no site picked,
        # 2/3 x 2/65 on average) stay as they are; every other one moves up, resp. down
        ground = np.ones((600, 8, 8, 1), np.float32)
        top = ground * np.where(np.add.outer(np.arange(8), np.arange(8)) % 2, 1, -1)[..., None]
        for start, sign in ((ground, 1), (top, -1)):
            moved = model.corrupted(tf.constant(start)).numpy()
            change = ising.energy(moved[..., 0]) - ising.energy(start[..., 0])
            self.assertAllClose(np.mean(change == 0), 1 / 3 + 2 / 3 * 2 / 65, atol=0.06)
            self.assertAllEqual(np.sign(change[change != 0]), np.full(np.sum(change != 0), sign))
        real, labels = real[:5], np.float32(np.random.default_rng(7).uniform(-1, 1, size=(5, 2)))
        logs = {}
        for share in (0.0, 0.5):
            model = without_dropout(tiny(outliers=share))
            model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
            logit = model.discriminator(model.corrupted(tf.constant(real))).numpy()[:, 0]
            logs[share] = model.train_on_batch(real, labels, return_dict=True)
        # labelled fake: -log(1 - sigmoid(l)) = softplus(l), added to the GAN loss
        self.assertAllClose(logs[0.5]["gan_loss"] - logs[0.0]["gan_loss"],
                            np.mean(np.logaddexp(0, logit)), rtol=1e-4)

    def test_the_generator_average_is_the_debiased_moving_average_of_its_weights(self):
        real, labels = (t.numpy() for t in next(iter(ising_examples(9).batch(9))))
        model = tiny(average=0.75)
        model.compile(**model.make_optimizers(None, lambda rate, updates=1: rate))
        before = [w.numpy() for w in model.generator.trainable_weights]
        with model.averaged() as generator:  # untrained: its own weights
            for a, b in zip(generator.trainable_weights, before):
                self.assertAllEqual(a, b)
        seen = []
        for _ in range(3):
            model.train_on_batch(real, labels)
            seen.append([w.numpy() for w in model.generator.trainable_weights])
        mu = 0.75  # (w3 + mu w2 + mu^2 w1) (1 - mu) / (1 - mu^3)
        expected = [(c + mu * b + mu ** 2 * a) / (1 + mu + mu ** 2) for a, b, c in zip(*seen)]
        with model.averaged() as generator:
            for weight, value in zip(generator.trainable_weights, expected):
                self.assertAllClose(weight, value, rtol=1e-5, atol=1e-7)
            self.assertGreater(np.abs(expected[0] - seen[-1][0]).max(), 1e-5)  # not the last
        for weight, value in zip(model.generator.trainable_weights, seen[-1]):
            self.assertAllEqual(weight, value)  # its own weights again
        with self.assertRaisesRegex(ValueError, "0 <= mu < 1"):
            tiny(average=1.0)

    def test_two_mirrored_replicas_keep_one_average(self):
        from tfphys.training.distribute import Distribution
        dist = Distribution(devices=testing.use_logical_cpus(2))
        config = TrainConfig(epochs=1, batch_size=16, learning_rate=1e-3, verbose=0)
        model, _ = train(lambda: tiny(average=0.9), ising_examples(70), config, dist)
        self.assertEqual(int(model.generator_optimizer.iterations.numpy()), 5)
        for variable in model.averages:
            copies = dist.strategy.experimental_local_results(variable)
            self.assertAllEqual(copies[0], copies[1])
            self.assertGreater(np.abs(copies[0]).max(), 0.0)

    def test_trains_through_the_entry_point_and_resumes_exactly(self):
        config = dict(epochs=2, batch_size=16, learning_rate=1e-3, verbose=0, checkpoint_every=2)
        build = lambda: tiny(average=0.9)  # noqa: E731  (the average is resumed too)
        straight, history = train(build, ising_examples(70), TrainConfig(**config))
        self.assertEqual(int(straight.critic_optimizer.iterations), 10)
        self.assertTrue(np.all(np.isfinite(history.history["label_loss"])))
        run = os.path.join(self.get_temp_dir(), "gan")
        with self.assertRaises(KeyboardInterrupt):
            train(build, ising_examples(70), TrainConfig(run_dir=run, **config),
                  callbacks=[testing.kill_at(5)])
        resumed, _ = train(build, ising_examples(70), TrainConfig(run_dir=run, **config))
        self.assertLen(straight.averages, len(straight.generator.trainable_weights))
        for a, b in zip(straight.get_weights(), resumed.get_weights()):
            self.assertAllEqual(a, b)  # noise and dropout masks repeat exactly
