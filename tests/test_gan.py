"""RUGAN networks: sizes, periodic translation equivariance (the upscaling property), label
conditioning, a gradient penalty checked by hand, and a safe export round trip."""

import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.models import gan
from tfphys.training import export


def _generator():
    tf.keras.utils.set_random_seed(0)
    return gan.generator(latent_channels=4, labels=2, filters=8)


class GeneratorTest(tf.test.TestCase):
    def test_a_latent_block_of_l_gives_a_lattice_of_4l_at_any_size(self):
        g = _generator()
        for l in (2, 3, 5, 16):
            z = np.random.default_rng(l).normal(size=(2, l, l, 4)).astype(np.float32)
            out = g([z, np.zeros((2, 2), np.float32)]).numpy()
            self.assertEqual(out.shape, (2, 4 * l, 4 * l, 1))
            self.assertTrue(np.all(np.abs(out) < 1))  # tanh: spin values

    def test_shifting_the_latent_by_one_block_shifts_the_lattice_by_four_sites(self):
        g = _generator()
        z = np.random.default_rng(0).normal(size=(1, 5, 5, 4)).astype(np.float32)
        labels = np.array([[-1.2, 0.3]], np.float32)
        for shift in ((1, 0), (0, 2), (3, 4)):  # also across the periodic boundary
            moved = g([np.roll(z, shift, axis=(1, 2)), labels]).numpy()
            expected = np.roll(g([z, labels]).numpy(), (4 * shift[0], 4 * shift[1]), axis=(1, 2))
            self.assertAllClose(moved, expected, atol=1e-5)

    def test_reach_blocks_widen_what_one_site_sees_and_stay_periodic(self):
        tf.keras.utils.set_random_seed(0)
        grown = gan.generator(latent_channels=4, labels=2, filters=8, reach=2)
        for layer in grown.layers:  # the blocks start as nothing: give them weights to see
            if layer.name.startswith(gan.REACH) and layer.name.endswith("_conv2"):
                layer.set_weights([np.full(w.shape, 0.05, np.float32) for w in layer.weights])
        labels = np.array([[-1.2, 0.3]], np.float32)
        for g, window in ((_generator(), 6), (grown, 2 ** 4 + 2)):
            z = tf.Variable(np.random.default_rng(0).normal(size=(1, 24, 24, 4)), dtype=tf.float32)
            with tf.GradientTape() as tape:
                site = g([z, labels])[0, 48, 48, 0]
            seen = np.flatnonzero(np.abs(tape.gradient(site, z).numpy()).sum(axis=(0, 2, 3)))
            self.assertEqual(seen.max() - seen.min() + 1, window)
        # taps 4 latent cells apart on a 3 x 3 latent wrap around: still a periodic generator
        z = np.random.default_rng(1).normal(size=(1, 3, 3, 4)).astype(np.float32)
        moved = grown([np.roll(z, (1, 2), axis=(1, 2)), labels]).numpy()
        self.assertAllClose(moved, np.roll(grown([z, labels]).numpy(), (4, 8), axis=(1, 2)),
                            atol=1e-5)

    def test_labels_change_the_output_and_enter_as_channels(self):
        g = _generator()
        z = np.random.default_rng(1).normal(size=(1, 3, 3, 4)).astype(np.float32)
        a = g([z, np.array([[-1.5, 0.9]], np.float32)]).numpy()
        b = g([z, np.array([[0.0, 0.0]], np.float32)]).numpy()
        self.assertGreater(np.abs(a - b).max(), 1e-4)
        planes = gan.LabelChannels()([tf.zeros((2, 3, 4, 1)), tf.constant([[1.0, 2.0], [3.0, 4.0]])])
        self.assertAllEqual(planes[1, 2, 3], [0.0, 3.0, 4.0])


class IsingLabelsTest(tf.test.TestCase):
    def test_known_lattices_and_the_closed_form_gradient(self):
        up = np.ones((6, 6))
        checkerboard = np.where(np.indices((6, 6)).sum(0) % 2, 1.0, -1.0)
        stripes = np.where(np.arange(6) % 2, 1.0, -1.0)[:, None] * np.ones((1, 6))  # rows alternate
        lattices = np.stack([up, checkerboard, stripes])[..., None].astype(np.float32)
        # all up: 2N satisfied bonds; checkerboard: 2N broken; stripes: N broken, N satisfied
        self.assertAllClose(gan.ising_labels(lattices), [[-2.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
        s = tf.constant(np.random.default_rng(3).choice([-1.0, 1.0], size=(2, 5, 7, 1)), tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(s)
            energy = gan.ising_labels(s)[:, 0]
        grad = tape.gradient(energy, s).numpy()[..., 0]
        x = s.numpy()[..., 0]
        neighbours = sum(np.roll(x, k, axis=a) for k in (1, -1) for a in (1, 2))
        self.assertAllClose(grad, -neighbours / 35)  # dE/ds_i = -J (sum of the 4 neighbours)


class CriticTest(tf.test.TestCase):
    def test_scores_any_size_and_is_invariant_under_pool_aligned_translations(self):
        tf.keras.utils.set_random_seed(2)
        c = gan.critic(labels=2, filters=8, dropout=0.25)
        x = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, 16, 16, 1)).astype(np.float32)
        labels = np.zeros((3, 2), np.float32)
        self.assertEqual(c([x, labels]).shape, (3, 1))
        self.assertEqual(c([np.tile(x, (1, 2, 2, 1)), labels]).shape, (3, 1))
        shifted = np.roll(x, (4, -8), axis=(1, 2))  # multiples of 2^blocks
        self.assertAllClose(c([shifted, labels]), c([x, labels]), atol=1e-5)
        # dropout acts in training only: two training calls differ, inference calls agree
        self.assertGreater(np.abs(c([x, labels], training=True) - c([x, labels], training=True)).max(), 0)
        self.assertAllEqual(c([x, labels]), c([x, labels]))


class RegressorTest(tf.test.TestCase):
    def test_can_represent_energy_per_spin_and_magnetization_exactly(self):
        # conv0: relu(+-(s_i + s_right)), relu(+-(s_i + s_down)), relu(+-s_i); conv1 passes them;
        # s_i s_j = |s_i + s_j| - 1, so E/N = 2 - (site mean of the four bond channels)
        r = gan.regressor(labels=2, filters=6)
        k0 = np.zeros((3, 3, 1, 6), np.float32)
        for channel, (sign, neighbour) in enumerate([(1, (1, 2)), (-1, (1, 2)), (1, (2, 1)),
                                                     (-1, (2, 1))]):
            k0[1, 1, 0, channel] = k0[neighbour + (0, channel)] = sign
        k0[1, 1, 0, 4], k0[1, 1, 0, 5] = 1, -1
        k1 = np.zeros((3, 3, 6, 6), np.float32)
        k1[1, 1] = np.eye(6)
        dense = np.zeros((6, 2), np.float32)
        dense[:4, 0] = -1.0
        dense[4, 1], dense[5, 1] = 1.0, -1.0
        r.get_layer("conv0").set_weights([k0, np.zeros(6, np.float32)])
        r.get_layer("conv1").set_weights([k1, np.zeros(6, np.float32)])
        r.get_layer("labels").set_weights([dense, np.array([2.0, 0.0], np.float32)])
        from tfphys.physics.spins import ising

        s = np.random.default_rng(4).choice([-1, 1], size=(5, 12, 8)).astype(np.int8)
        self.assertAllClose(r(s[..., None].astype(np.float32)), ising.per_spin(s), atol=1e-6)


class GradientPenaltyTest(tf.test.TestCase):
    def test_a_linear_critic_has_the_penalty_of_its_weight_norm(self):
        # C(x) = sum(w * x): the gradient is w everywhere, so the penalty is (|w| - 1)^2
        w = tf.constant(np.random.default_rng(0).normal(size=(1, 4, 4, 1)), tf.float64)
        real = tf.constant(np.random.default_rng(1).normal(size=(5, 4, 4, 1)))
        fake = tf.constant(np.random.default_rng(2).normal(size=(5, 4, 4, 1)))
        weight = np.random.default_rng(3).uniform(size=5)
        penalty = gan.gradient_penalty(lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None],
                                       real, fake, weight)
        self.assertAllClose(penalty, (np.linalg.norm(w.numpy()) - 1) ** 2, rtol=1e-10)
        # C(x) = |x|^2 / 2: the gradient at the mixed point m is m itself
        penalty = gan.gradient_penalty(lambda x: 0.5 * tf.reduce_sum(x * x, axis=[1, 2, 3])[:, None],
                                       real, fake, weight)
        mixed = weight[:, None, None, None] * real.numpy() + (1 - weight[:, None, None, None]) * fake.numpy()
        norms = np.sqrt((mixed ** 2).sum(axis=(1, 2, 3)))
        self.assertAllClose(penalty, np.mean((norms - 1) ** 2), rtol=1e-8)
        # a flat critic has zero gradient: the epsilon keeps the penalty (and its gradient) finite
        flat = gan.gradient_penalty(lambda x: 0.0 * tf.reduce_sum(x, axis=[1, 2, 3])[:, None],
                                    real, fake, weight)
        self.assertAllClose(flat, 1.0, atol=1e-5)


class SerializationTest(tf.test.TestCase):
    def test_generator_and_critic_export_and_reload_safely(self):
        g = _generator()
        c = gan.critic(labels=2, filters=8)
        z = np.random.default_rng(0).normal(size=(2, 6, 6, 4)).astype(np.float32)
        labels = np.array([[0.5, -0.5], [-1.0, 0.1]], np.float32)
        for model, x in ((g, z), (c, np.tile(g([z, labels]).numpy(), (1, 1, 1, 1)))):
            reloaded = export.load(export.export(model, os.path.join(self.get_temp_dir(), model.name)))
            self.assertAllClose(reloaded([x, labels]), model([x, labels]), atol=1e-5)
        big = np.random.default_rng(1).normal(size=(1, 12, 12, 4)).astype(np.float32)
        reloaded = export.load(os.path.join(self.get_temp_dir(), g.name))
        self.assertEqual(reloaded([big, labels[:1]]).shape, (1, 48, 48, 1))  # upscales after reload


def ising_examples(n, L=8, seed=0):
    """Unbatched (spins (L, L, 1), labels (E/N, m)) of uniform random Ising configurations."""
    from tfphys.physics.spins import ising

    s = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, L, L)).astype(np.float32)
    labels = np.stack([ising.energy(s) / L ** 2, s.mean(axis=(1, 2))], axis=1).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((s[..., None], labels))


def tiny_rugan(average=0.0):
    tf.keras.utils.set_random_seed(6)
    return gan.RUGAN(gan.generator(latent_channels=2, labels=2, filters=4),
                     gan.critic(labels=2, filters=4), critic_steps=2, learning_rate=1e-3, seed=1,
                     average=average)


class RuganTrainingTest(tf.test.TestCase):
    def test_trains_through_the_entry_point_and_resumes_exactly(self):
        from tfphys.training.fit import TrainConfig, train

        config = dict(epochs=2, batch_size=16, learning_rate=1e-3, verbose=0, checkpoint_every=2)
        build = lambda: tiny_rugan(average=0.9)  # noqa: E731  (the weight average resumes too)
        straight, history = train(build, ising_examples(70), TrainConfig(**config))
        self.assertEqual(int(straight.critic_optimizer.iterations), 2 * 10)  # 5 steps x 2 epochs x 2
        for name in ("wasserstein", "gradient_penalty", "consistency", "generator_loss"):
            self.assertTrue(np.all(np.isfinite(history.history[name])), name)
        own = [w.numpy() for w in straight.generator.trainable_weights]
        self.assertLen(straight.averages, len(own))
        with straight.averaged() as generator:  # 10 generator steps: not the last weights
            self.assertGreater(max(np.abs(a - b).max() for a, b in
                                   zip(generator.get_weights(), own)), 1e-6)
        run = os.path.join(self.get_temp_dir(), "rugan")
        with self.assertRaises(KeyboardInterrupt):
            train(build, ising_examples(70), TrainConfig(run_dir=run, **config),
                  callbacks=[testing.kill_at(5)])
        resumed, _ = train(build, ising_examples(70), TrainConfig(run_dir=run, **config))
        for a, b in zip(straight.get_weights(), resumed.get_weights()):
            self.assertAllEqual(a, b)  # latents, interpolations and dropout masks repeat exactly
        z = np.zeros((1, 4, 4, 2), np.float32)
        self.assertEqual(resumed.generator([z, np.zeros((1, 2), np.float32)]).shape, (1, 16, 16, 1))

    def test_a_decaying_rate_spans_the_run_for_the_critic_too(self):
        """The critic updates critic_steps times per step and its cosine schedule counts those
        updates: the rates of the last updates of epoch 1 of 2 (generator step 4 of 10, critic
        update 9 of 20) are near half their base, the critic's not near zero."""
        from tfphys.training.fit import TrainConfig, train
        rates = []

        class Rates(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                rates.append([float(self.model.critic_optimizer.learning_rate),
                              float(self.model.generator_optimizer.learning_rate)])
        model, _ = train(tiny_rugan, ising_examples(70), TrainConfig(
            epochs=2, batch_size=16, learning_rate=1e-3, decay="cosine", verbose=0),
            callbacks=[Rates()])
        self.assertEqual(int(model.critic_optimizer.iterations), 2 * 10)
        cosine = lambda done: 0.5 * (1 + np.cos(np.pi * done))  # noqa: E731
        self.assertAllClose(rates[0], [1e-3 * cosine(9 / 20),
                                       1e-3 * model.generator_rate_factor * cosine(4 / 10)],
                            rtol=1e-5)

    def test_a_label_regressor_fits_real_labels_and_enters_the_generator_loss(self):
        from tfphys.training.fit import TrainConfig, train

        def build():
            tf.keras.utils.set_random_seed(6)
            return gan.RUGAN(gan.generator(latent_channels=2, labels=2, filters=4),
                             gan.critic(labels=2, filters=4), critic_steps=3, learning_rate=1e-2,
                             seed=1, regressor_net=gan.regressor(2, 4), label_weight=5.0)
        before = build().regressor.get_weights()
        model, history = train(build, ising_examples(45),
                               TrainConfig(epochs=3, batch_size=16, learning_rate=1e-2, verbose=0))
        fit, miss = history.history["label_fit"], history.history["label_miss"]
        self.assertTrue(np.all(np.isfinite(fit + miss)))
        self.assertLess(fit[-1], fit[0])  # the critic's optimizer trains the regressor on reals
        self.assertFalse(all(np.array_equal(a, b) for a, b in
                             zip(before, model.regressor.get_weights())))

    def test_exact_labels_replace_the_regressor_in_the_generator_loss(self):
        from tfphys.training.fit import TrainConfig, train

        def build():
            tf.keras.utils.set_random_seed(6)
            return gan.RUGAN(gan.generator(latent_channels=2, labels=2, filters=4),
                             gan.critic(labels=2, filters=4), critic_steps=2, learning_rate=1e-2,
                             seed=1, label_function=gan.ising_labels, label_weight=5.0)
        model, history = train(build, ising_examples(45),
                               TrainConfig(epochs=2, batch_size=16, learning_rate=1e-2, verbose=0))
        self.assertNotIn("label_fit", history.history)  # nothing fitted
        self.assertTrue(np.all(np.isfinite(history.history["label_miss"])))
        # the miss is a mean |label error|: |E/N| <= 2 and |m| <= 1 bound it for Ising labels
        self.assertTrue(np.all(np.array(history.history["label_miss"]) <= 3.5))
        with self.assertRaisesRegex(ValueError, "not both"):
            gan.RUGAN(model.generator, model.critic, regressor_net=gan.regressor(2, 4),
                      label_function=gan.ising_labels)

    def test_trains_under_mirrored_strategy_with_replicas_in_sync(self):
        from tfphys.training.distribute import Distribution
        from tfphys.training.fit import TrainConfig, train

        dist = Distribution(devices=testing.use_logical_cpus(2))
        model, history = train(tiny_rugan, ising_examples(70),
                               TrainConfig(epochs=1, batch_size=16, learning_rate=1e-3, verbose=0),
                               dist)
        self.assertEqual(dist.replicas, 2)
        self.assertEqual(int(model.generator_optimizer.iterations.numpy()), 5)  # ceil(70 / 16) steps
        self.assertTrue(np.all(np.isfinite(history.history["wasserstein"])))
        for variable in model.generator.weights + model.critic.weights:
            copies = dist.strategy.experimental_local_results(variable)
            self.assertLen(copies, 2)
            self.assertAllEqual(copies[0], copies[1])  # both replicas applied the summed update
