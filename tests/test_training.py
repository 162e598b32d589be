"""Training entry point: MirroredStrategy equals one device, checkpoint resume is exact, Horovod
ranks agree, target stopping, GPU checks, and the bin/train_* scripts end to end."""

import glob
import os
import re
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.physics.spins import ising
from tfphys.training import counting_training, export, presets
from tfphys.training.adversarial import rugan_training
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train

HERE = os.path.dirname(os.path.abspath(__file__))


def ising_data(n=512, L=8, seed=0):
    """Unbatched (configuration, energy) examples: what fit.train takes."""
    s = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, L, L)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((s[..., None], ising.energy(s).astype(np.float32)))


def build():
    tf.keras.utils.set_random_seed(7)
    return ednn.ednn(ednn.mlp_brain(1, 1), 1, 1)


class DistributionTest(tf.test.TestCase):
    def test_two_logical_devices_follow_the_one_device_loss_curve(self):
        # float64, so the only difference (the order in which replica gradients are summed)
        # stays at rounding level and the comparison can be tight
        tf.keras.backend.set_floatx("float64")
        self.addCleanup(tf.keras.backend.set_floatx, "float32")
        data = ising_data().map(lambda x, y: (tf.cast(x, tf.float64), tf.cast(y, tf.float64)))
        config = TrainConfig(epochs=3, batch_size=64, optimizer="sgd", learning_rate=1e-4, verbose=0)
        one, h1 = train(build, data, config)
        dist = Distribution(devices=testing.use_logical_cpus(2))
        self.assertEqual(dist.replicas, 2)
        two, h2 = train(build, data, config, dist)
        self.assertLess(h1.history["loss"][-1], 0.5 * h1.history["loss"][0])
        self.assertAllClose(h2.history["loss"], h1.history["loss"], rtol=1e-9)
        for a, b in zip(one.get_weights(), two.get_weights()):
            self.assertAllClose(a, b, rtol=1e-9, atol=1e-12)

    def test_asking_for_missing_gpus_is_a_clear_error(self):
        if tf.config.list_physical_devices("GPU"):
            self.skipTest("this machine has GPUs")
        with self.assertRaisesRegex(InputError, "asks for 2 GPU.*sees 0"):
            Distribution(gpus=2)



class ResumeTest(tf.test.TestCase):
    def test_a_run_killed_at_a_random_step_resumes_to_identical_weights(self):
        from tfphys.data import pipeline

        # 500 examples in batches of 64: 8 steps an epoch, the last one partial; augmentation
        # draws a fresh lattice symmetry for every example and epoch
        config = dict(epochs=3, batch_size=64, learning_rate=1e-3, seed=5, verbose=0,
                      checkpoint_every=3)
        transform = lambda ds, seed: pipeline.symmetries(ds, seed=seed)  # noqa: E731
        straight, _ = train(build, ising_data(500), TrainConfig(**config), transform=transform)
        inside = [step for step in range(1, 24) if step % 8]  # not at an epoch end
        for at in np.random.default_rng().choice(inside, 2, replace=False):  # two distinct runs
            with self.subTest(killed_at=int(at)):
                run = os.path.join(self.get_temp_dir(), f"kill{at}")
                with self.assertRaises(KeyboardInterrupt):
                    train(build, ising_data(500), TrainConfig(run_dir=run, **config),
                          transform=transform, callbacks=[testing.kill_at(at)])
                resumed, history = train(build, ising_data(500), TrainConfig(run_dir=run, **config),
                                         transform=transform)
                saved = max(at // 3 * 3, at // 8 * 8)  # every 3 steps and at epoch ends
                self.assertEqual(history.epoch[0], saved // 8)  # restarts in that epoch
                for a, b in zip(straight.get_weights(), resumed.get_weights()):
                    self.assertAllEqual(a, b)

    def test_a_checkpoint_of_another_architecture_is_refused(self):
        run = os.path.join(self.get_temp_dir(), "arch")
        train(build, ising_data(), TrainConfig(epochs=1, batch_size=64, run_dir=run, verbose=0))
        with self.assertRaisesRegex(InputError, "different model.*--run_dir"):
            train(lambda: ednn.ednn(ednn.mlp_brain(1, 2), 1, 2), ising_data(),
                  TrainConfig(epochs=2, batch_size=64, run_dir=run, verbose=0))
        with self.assertRaisesRegex(InputError, "took 8 steps an epoch, this one takes 4"):
            train(build, ising_data(), TrainConfig(epochs=2, batch_size=128, run_dir=run, verbose=0))

    def test_a_diverging_run_fails_instead_of_returning_nan_weights(self):
        from tfphys.errors import TrainingDiverged

        with self.assertRaisesRegex(TrainingDiverged, "diverged.*--learning_rate"):
            train(build, ising_data(), TrainConfig(epochs=2, batch_size=64, optimizer="sgd",
                                                   learning_rate=1e10, verbose=0))
        for bad in (float("inf"), float("nan"), 0.0):
            with self.assertRaisesRegex(InputError, "--learning_rate must be a positive finite"):
                TrainConfig(learning_rate=bad)

    def test_interrupted_training_resumes_to_the_uninterrupted_weights(self):
        run = os.path.join(self.get_temp_dir(), "run")
        config = dict(batch_size=64, learning_rate=1e-3, verbose=0)
        straight, _ = train(build, ising_data(), TrainConfig(epochs=4, **config))
        train(build, ising_data(), TrainConfig(epochs=2, run_dir=run, **config))
        resumed, history = train(build, ising_data(), TrainConfig(epochs=4, run_dir=run, **config))
        self.assertEqual(history.epoch, [2, 3])
        for a, b in zip(straight.get_weights(), resumed.get_weights()):
            self.assertAllClose(a, b, rtol=1e-5, atol=1e-6)
        self.assertNotEmpty(glob.glob(os.path.join(run, "checkpoints", "ckpt-*.index")))
        self.assertNotEmpty(glob.glob(os.path.join(run, "tensorboard", "train", "events*")))

    def test_a_run_starts_from_an_exports_weights_and_refuses_another_shape(self):
        config = dict(epochs=1, batch_size=64, verbose=0)
        trained, _ = train(build, ising_data(), TrainConfig(learning_rate=1e-2, **config))
        path = os.path.join(self.get_temp_dir(), "start")
        export.export(trained, path, {"kind": "ednn"})
        seen = []

        class First(tf.keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                seen.append(self.model.get_weights())

        train(build, ising_data(), TrainConfig(init=path, **config), callbacks=[First()])
        self.assertNotAllClose(build().get_weights()[0], trained.get_weights()[0])
        for began, want in zip(seen[0], trained.get_weights()):
            self.assertAllEqual(began, want)
        with self.assertRaisesRegex(InputError, f"--init {path} does not fit this model: .* is "
                                    r"\[9, 288\], here \[25, 800\]"):
            train(lambda: ednn.ednn(ednn.mlp_brain(1, 2), 1, 2), ising_data(),
                  TrainConfig(init=path, **config))

    def test_mixed_precision_trains_in_16_bits_and_returns_a_float32_twin(self):
        def mixed():
            tf.keras.utils.set_random_seed(7)
            inputs = tf.keras.Input((8, 8, 1))
            x = tf.keras.layers.Dense(16, activation="relu")(tf.keras.layers.Flatten()(inputs))
            return tf.keras.Model(inputs, tf.keras.layers.Dense(1, dtype="float32")(x))

        seen = []

        class Computes(tf.keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                seen.append(self.model.layers[2].compute_dtype)

        s = np.random.default_rng(0).choice([-1.0, 1.0], size=(512, 8, 8, 1)).astype(np.float32)
        magnetization = tf.data.Dataset.from_tensor_slices((s, s.sum((1, 2, 3))))
        config = dict(epochs=6, batch_size=64, learning_rate=1e-2, verbose=0)
        _, full = train(mixed, magnetization, TrainConfig(**config))
        self.assertLess(full.history["loss"][-1], 4.0)  # from 64, the label's variance
        self.addCleanup(tf.keras.backend.set_floatx, "float32")
        for policy in ("mixed_bfloat16", "mixed_float16"):  # float16: Keras's loss scaling
            run = os.path.join(self.get_temp_dir(), policy)
            train(mixed, magnetization, TrainConfig(precision=policy, run_dir=run,
                                                    **{**config, "epochs": 4}))
            model, history = train(mixed, magnetization, TrainConfig(precision=policy,
                                                                     run_dir=run, **config),
                                   callbacks=[Computes()])
            self.assertEqual(seen.pop(), policy.split("_")[1])
            self.assertEqual(history.epoch, [4, 5])  # resumed from the 16-bit checkpoint
            self.assertEqual({layer.compute_dtype for layer in model.layers}, {"float32"})
            # the float32 run's loss curve, up to the 16-bit rounding (measured: 1 % / 3 %)
            self.assertAllClose(history.history["loss"][-1], full.history["loss"][-1], rtol=0.1)
            self.assertNotAllClose(mixed().get_weights()[0], model.get_weights()[0])
            tf.keras.backend.set_floatx("float64")  # the policy follows floatx again
            self.assertEqual(tf.keras.mixed_precision.global_policy().name, "float64")
            tf.keras.backend.set_floatx("float32")
        # the Ising EDNN sums its tiles in the policy's dtype: refused, policy restored
        with self.assertRaisesRegex(InputError, "in lower precision than float32 under "
                                    r"mixed_bfloat16; train it in float32 \(TrainConfig.precision, "
                                    r"--precision float32\)"):
            train(build, ising_data(), TrainConfig(precision="mixed_bfloat16", **config))
        self.assertEqual(tf.keras.mixed_precision.global_policy().name, "float32")
        with self.assertRaisesRegex(InputError, "unknown precision 'bfloat16'; choose one of"):
            TrainConfig(precision="bfloat16")

    def test_cosine_decay_spans_the_whole_run(self):
        model, history = train(build, ising_data(), TrainConfig(
            epochs=2, batch_size=64, learning_rate=1e-3, decay="cosine", verbose=0))
        self.assertEqual(int(model.optimizer.iterations), 16)  # 512 / 64 batches x 2 epochs
        # the last (16th) update used step 15 of a 16-step cosine from 1e-3 to 0
        self.assertAllClose(float(model.optimizer.learning_rate),
                            1e-3 * 0.5 * (1 + np.cos(np.pi * 15 / 16)), rtol=1e-6)
        self.assertLess(history.history["loss"][-1], history.history["loss"][0])

    def test_a_presets_schedule_fields_make_its_config_and_run_settings_override(self):
        counting = counting_training.PRESETS["counting_quick"]
        config = TrainConfig.of(counting, seed=3, verbose=0)
        self.assertEqual((config.epochs, config.batch_size, config.learning_rate, config.decay,
                          config.seed), (counting.epochs, counting.batch_size,
                                         counting.learning_rate, "cosine", 3))
        # a preset without decay or optimizer fields keeps the defaults; run settings win
        rugan = rugan_training.PRESETS["rugan_quick"]
        config = TrainConfig.of(rugan, epochs=1)
        self.assertEqual((config.epochs, config.batch_size, config.optimizer, config.decay),
                         (1, rugan.batch_size, "adam", "constant"))
        self.assertEqual(TrainConfig.of(presets.PRESETS["ising8_regress"]).optimizer, "adadelta")

    def test_a_warm_up_rises_linearly_then_decays_over_the_rest_of_the_run(self):
        for decay, after in (("cosine", lambda k: 0.5 * (1 + np.cos(np.pi * k / 11))),
                             ("constant", lambda k: 1.0)):
            model, _ = train(build, ising_data(), TrainConfig(
                epochs=2, batch_size=64, learning_rate=1e-3, decay=decay, warmup_steps=5,
                verbose=0))  # 16 steps: 5 rising from 0, 11 decaying from 1e-3
            rate = model.optimizer._learning_rate
            self.assertAllClose([float(rate(step)) for step in range(17)],
                                [1e-3 * step / 5 for step in range(5)]
                                + [1e-3 * after(k) for k in range(12)], rtol=1e-5, atol=1e-9)
        with self.assertRaisesRegex(InputError, "--warmup_steps 16 leaves nothing of this run's "
                                    "16 steps: give fewer"):
            train(build, ising_data(), TrainConfig(epochs=2, batch_size=64, warmup_steps=16,
                                                   verbose=0))
        with self.assertRaisesRegex(InputError, "--warmup_steps must be >= 0, got -1"):
            TrainConfig(warmup_steps=-1)

    def test_model_selection_keeps_the_best_epoch_across_a_resume(self):
        run = os.path.join(self.get_temp_dir(), "select")
        config = dict(batch_size=64, learning_rate=1e-3, verbose=0)
        scores = {1: 3.0, 2: 1.0, 3: 2.0, 4: 5.0}  # by epoch: the second is the best
        seen = {}

        def select(model):  # scores by epoch, remembering each epoch's weights
            epoch = int(model.optimizer.iterations) // 8
            seen[epoch] = model.get_weights()
            return scores[epoch]

        train(build, ising_data(), TrainConfig(epochs=2, run_dir=run, **config), select=select)
        model, history = train(build, ising_data(), TrainConfig(epochs=4, run_dir=run, **config),
                               select=select)
        self.assertEqual(history.epoch, [2, 3])  # resumed after epoch 2
        self.assertEqual(history.best_epoch, 2)  # remembered from before the resume
        self.assertEqual(history.history["selection"], [2.0, 5.0])
        for a, b in zip(model.get_weights(), seen[2]):
            self.assertAllEqual(a, b)
        # a run resumed with no epoch left still names and restores the best one
        model, history = train(build, ising_data(), TrainConfig(epochs=4, run_dir=run, **config),
                               select=select)
        self.assertEqual((history.epoch, history.best_epoch), ([], 2))
        for a, b in zip(model.get_weights(), seen[2]):
            self.assertAllEqual(a, b)

    def test_model_selection_from_a_later_epoch_skips_the_earlier_ones(self):
        scores = {1: 3.0, 2: 1.0, 3: 2.0, 4: 5.0}  # the second is the best of all, the third
        kept = {}  # of epochs 3 and 4

        def select(model):
            epoch = int(model.optimizer.iterations) // 8
            kept[epoch] = model.get_weights()
            return scores[epoch]

        model, history = train(build, ising_data(), TrainConfig(
            epochs=4, batch_size=64, learning_rate=1e-3, verbose=0, select_from=3), select=select)
        self.assertEqual(history.best_epoch, 3)
        self.assertEqual(history.history["selection"], [3.0, 1.0, 2.0, 5.0])  # all scored
        for a, b in zip(model.get_weights(), kept[3]):
            self.assertAllEqual(a, b)
        with self.assertRaisesRegex(InputError, r"--select_from must be an epoch of the run \(1 "
                                    r"to 4\), got 5"):
            TrainConfig(epochs=4, select_from=5)

    def test_training_stops_at_the_target(self):
        _, history = train(build, ising_data(), TrainConfig(epochs=50, batch_size=64, learning_rate=3e-3,
                                                            target=("mae", 20.0), verbose=0))
        self.assertLess(len(history.epoch), 50)
        self.assertLessEqual(history.history["mae"][-1], 20.0)

    def test_a_callback_that_stops_training_ends_the_run(self):
        class StopInSecondEpoch(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                self.model.stop_training = self.model.optimizer.iterations.numpy() >= 10

        _, history = train(build, ising_data(), TrainConfig(epochs=50, batch_size=64, verbose=0),
                           callbacks=[StopInSecondEpoch()])
        self.assertEqual(history.epoch, [0, 1])  # 8 steps per epoch: step 10 is in epoch 1
        _, history = train(build, ising_data(), TrainConfig(epochs=50, batch_size=64, verbose=0),
                           callbacks=[tf.keras.callbacks.EarlyStopping("loss", patience=0,
                                                                       min_delta=1e9)])
        self.assertEqual(history.epoch, [0, 1])  # Keras's own: no improvement by 1e9 at epoch 1


class AdversarialTrainingTest(tf.test.TestCase):
    """A model with its own train_step and two optimizers goes through the same entry point."""

    def _variables(self, model):
        return [v.numpy() for v in model.weights + model.critic_optimizer.variables
                + model.generator_optimizer.variables]

    def test_a_critic_generator_pair_resumes_exactly_after_a_kill(self):
        # 250 examples in batches of 32: 8 steps an epoch, the last one of 26
        config = dict(epochs=3, batch_size=32, learning_rate=3e-3, seed=1, verbose=0,
                      checkpoint_every=4)

        def build():
            tf.keras.utils.set_random_seed(3)
            return testing.ToyWGAN()

        straight, history = train(build, testing.toy_wgan_data(250), TrainConfig(**config))
        self.assertEqual(sorted(history.history), ["critic_loss", "generator_loss"])
        at = int(np.random.default_rng().choice([5, 7, 10, 13, 18, 21]))
        run = os.path.join(self.get_temp_dir(), "gan")
        with self.assertRaises(KeyboardInterrupt):
            train(build, testing.toy_wgan_data(250), TrainConfig(run_dir=run, **config),
                  callbacks=[testing.kill_at(at)])
        resumed, _ = train(build, testing.toy_wgan_data(250), TrainConfig(run_dir=run, **config))
        self.assertEqual(int(resumed.critic_optimizer.iterations), 24)
        for a, b in zip(self._variables(straight), self._variables(resumed)):
            self.assertAllEqual(a, b)  # both networks and both optimizers' slots

    def test_two_logical_devices_equal_one_device_in_float64(self):
        tf.keras.backend.set_floatx("float64")
        self.addCleanup(tf.keras.backend.set_floatx, "float32")
        config = TrainConfig(epochs=2, batch_size=32, learning_rate=3e-3, verbose=0)

        def build():
            tf.keras.utils.set_random_seed(4)
            return testing.ToyWGAN()

        one, _ = train(build, testing.toy_wgan_data(256, dtype="float64"), config)
        two, _ = train(build, testing.toy_wgan_data(256, dtype="float64"), config,
                       Distribution(devices=testing.use_logical_cpus(2)))
        for a, b in zip(one.get_weights(), two.get_weights()):
            self.assertAllClose(a, b, rtol=1e-9, atol=1e-12)

    def test_tensorboard_gets_scalars_images_and_histograms(self):
        from tensorboard.backend.event_processing import event_accumulator

        run = os.path.join(self.get_temp_dir(), "board")
        z = np.random.default_rng(0).normal(size=(64, 1)).astype(np.float32)

        def pictures(model):
            samples = model.generator(z).numpy()
            return {"images": {"samples": np.tanh(samples.reshape(4, 4, 4))},
                    "histograms": {"generated": samples}}

        train(testing.ToyWGAN, testing.toy_wgan_data(64),
              TrainConfig(epochs=2, batch_size=32, learning_rate=3e-3, run_dir=run, verbose=0),
              pictures=pictures)
        board = event_accumulator.EventAccumulator(
            os.path.join(run, "tensorboard", "pictures"),
            size_guidance={event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0}).Reload()
        tags = board.Tags()
        self.assertIn("samples", tags["tensors"])
        self.assertIn("generated", tags["tensors"])
        self.assertEqual([e.step for e in board.Tensors("generated")], [1, 2])
        scalars = event_accumulator.EventAccumulator(
            os.path.join(run, "tensorboard", "train")).Reload()
        self.assertIn("epoch_critic_loss", scalars.Tags()["tensors"] + scalars.Tags()["scalars"])

    def test_generator_and_critic_export_and_reload(self):
        tf.keras.utils.set_random_seed(5)
        model, _ = train(testing.ToyWGAN, testing.toy_wgan_data(64),
                         TrainConfig(epochs=1, batch_size=32, learning_rate=3e-3, verbose=0))
        z = np.linspace(-2, 2, 7, dtype=np.float32)[:, None]
        for part in (model.generator, model.critic):
            path = export.export(part, os.path.join(self.get_temp_dir(), part.name))
            self.assertAllClose(export.load(path)(z), part(z))

    def test_two_horovod_ranks_end_with_identical_networks(self):
        out = self.get_temp_dir()
        testing.horovodrun([sys.executable, os.path.join(HERE, "jobs", "horovod_wgan.py"), out], np=2,
                           timeout=300)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        self.assertEqual([r["steps"].tolist() for r in ranks], [[8, 8], [8, 8]])  # 115 per rank
        for key in ranks[0].files:
            if key.startswith("arr_"):
                np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
        self.assertAllClose(ranks[0]["critic_loss"], ranks[1]["critic_loss"])
        # the generator's weight average: one on both ranks, not the last weights
        np.testing.assert_array_equal(ranks[0]["averaged"], ranks[1]["averaged"])
        self.assertGreater(np.abs(ranks[0]["averaged"] - ranks[0]["own"]).max(), 1e-6)


class HorovodTrainingTest(tf.test.TestCase):
    def test_two_ranks_train_to_identical_weights_and_only_the_chief_writes(self):
        # 231 examples: 115 per rank (one left over each epoch), 4 steps of 32 on both ranks; a
        # per-batch split would give one rank a step more and deadlock the allreduce
        out = self.get_temp_dir()
        testing.horovodrun([sys.executable, os.path.join(HERE, "jobs", "horovod_ednn.py"), out], np=2,
                           timeout=300)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        self.assertEqual([int(r["steps"]) for r in ranks], [12, 12])
        for key in ranks[0].files:
            if key.startswith("arr_"):
                np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
        self.assertAllClose(ranks[0]["loss"], ranks[1]["loss"])  # metrics averaged over ranks
        self.assertAllClose(ranks[0]["val_loss"], ranks[1]["val_loss"])
        self.assertLen(glob.glob(os.path.join(out, "run", "tensorboard")), 1)
        self.assertNotEmpty(glob.glob(os.path.join(out, "run", "checkpoints", "ckpt-*.index")))

    def test_two_ranks_train_in_bfloat16_to_identical_float32_weights(self):
        out = self.get_temp_dir()
        testing.horovodrun([sys.executable, os.path.join(HERE, "jobs", "horovod_mixed.py"), out],
                           np=2, timeout=300)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        self.assertEqual(set(ranks[0]["dtypes"]), {"float32"})
        for key in ranks[0].files:
            if key.startswith("arr_"):
                np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
        self.assertAllClose(ranks[0]["loss"], ranks[1]["loss"])


class DistributedInferenceTest(tf.test.TestCase):
    def test_two_ranks_sum_their_slabs_to_the_single_process_result(self):
        out = self.get_temp_dir()
        testing.horovodrun([sys.executable, os.path.join(HERE, "jobs", "horovod_inference.py"), out], np=2)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        for rank in ranks:
            self.assertAllClose(rank["distributed"], rank["single"], rtol=1e-12)
            self.assertAllClose(rank["single"], rank["direct"], rtol=1e-5)
        self.assertAllClose(ranks[0]["distributed"], ranks[1]["distributed"], rtol=1e-12)
        sheet = [np.load(os.path.join(out, f"sheet{r}.npz")) for r in range(2)]
        self.assertAllEqual(sheet[0]["shape"], [512, 512])  # 2 x 2 cells at the spacing
        for rank in sheet:  # slabs of 72 fine rows (not whole tiles) and ranks: same energy
            self.assertAllClose(rank["distributed"], rank["direct"], rtol=1e-5)
            self.assertAllClose(rank["single"], rank["direct"], rtol=1e-5)


class LearnedOperatorTest(tf.test.TestCase):
    def test_a_network_operator_reproduces_exact_thermodynamics(self):
        from tfphys.physics.spins import couplings, operator_mc, thermo
        from tfphys.training import operators

        energy = operators.operator(ednn.ednn(testing.exact_ising_brain(1, 1), 1, 1), 4)
        temps = [3.0, 2.0]
        learned = operator_mc.scan(energy, 4, temps, n_replicas=16, n_equilibrate=50,
                                   n_measure=400, seed=0)
        exact = thermo.scan(couplings.ising(4), temps, n_replicas=64, n_equilibrate=500,
                            n_measure=4000, seed=1)
        for name in ("energy", "heat_capacity", "abs_magnetization"):
            err = np.hypot(getattr(learned, f"{name}_err"), getattr(exact, f"{name}_err"))
            diff = np.abs(getattr(learned, name) - getattr(exact, name))
            self.assertTrue(np.all(diff < 4 * err), f"{name}: {diff} vs 4 sigma {4 * err}")

    def test_a_focus_one_ednn_tabulates_to_its_own_energies(self):
        from tfphys.training import operators

        model = ednn.ednn(testing.exact_ising_brain(1, 1), 1, 1)
        table = operators.window_energy(model)
        s = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(16, 8, 8))
        self.assertAllClose(table.energy(s), model.predict(s[..., None].astype(np.float32))[:, 0])
        self.assertAllEqual(table.energy(s), ising.energy(s))
        with self.assertRaisesRegex(InputError, "focus 1"):
            operators.window_energy(ednn.ednn(testing.exact_ising_brain(2, 1), 2, 1))
        with self.assertRaisesRegex(InputError, "not an EDNN"):
            operators.window_energy(tf.keras.Sequential([tf.keras.Input((4, 4, 1)),
                                                         tf.keras.layers.Flatten()]))


class EvaluationTest(tf.test.TestCase):
    def test_large_lattices_are_scored_slab_by_slab_to_the_exact_energy(self):
        from tfphys.training import presets
        from tfphys.training.spins import run

        preset = presets.get("ednn_quick")
        model = ednn.ednn(testing.exact_ising_brain(1, 1), 1, 1)
        s = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(3, 264, 264))
        self.assertGreater(264 * 264, run.TILED)  # goes through ednn.predict_tiled
        out = run.predict(preset, model, s)
        self.assertAllEqual(out[:, 0], ising.energy(s))
        small = s[:, :16, :16]
        self.assertAllEqual(run.predict(preset, model, small)[:, 0], ising.energy(small))

    def test_generated_sets_hold_exactly_the_requested_split(self):
        from tfphys.data import split
        from tfphys.training import presets
        from tfphys.training.spins import run

        preset = presets.get("ednn_quick")
        for which, count in (("train", 1001), ("test", 77)):
            configs, labels = run.examples(preset, which, seed=4, count=count)
            self.assertLen(configs, count)
            self.assertAllEqual(split.is_test(configs), np.full(count, which == "test"))
            self.assertAllEqual(labels, ising.energy(configs))


class TrainScriptsTest(tf.test.TestCase):
    def test_train_ednn_exports_resumes_and_scores_larger_lattices(self):
        run, model_dir = os.path.join(self.get_temp_dir(), "run"), os.path.join(self.get_temp_dir(), "m")
        args = ["train_ednn", "--train_examples=400", "--test_examples=100", "--batch_size=100",
                f"--run_dir={run}", f"--export={model_dir}", "--eval_L=16"]
        proc = testing.run_script(*args, "--epochs=1", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertRegex(proc.stdout, r'test \(8x8\): \{"median_abs_error": [0-9.]+')
        self.assertRegex(proc.stdout, r'thermal T_c \(16x16\): \{"median_abs_error"')
        proc = testing.run_script(*args, "--epochs=2", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("Epoch 2/2", proc.stdout)
        self.assertNotIn("Epoch 1/2", proc.stdout)  # resumed after the first run's epoch
        model = export.load(model_dir)
        s = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 24, 24, 1)).astype(np.float32)
        self.assertEqual(model(s).shape, (2, 1))
        png = os.path.join(self.get_temp_dir(), "learned.png")
        proc = testing.run_script("thermodynamics", "--L=4", "--n_T=2", "--replicas=4",
                                  "--equilibrate=5", "--measure=20",
                                  f"--energy_model={model_dir}", f"--plot={png}", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("learned operator", proc.stdout)
        self.assertTrue(os.path.exists(png))

    def test_sigkill_at_a_random_step_then_rerun_gives_the_uninterrupted_model(self):
        import signal
        import time

        tmp = self.get_temp_dir()
        args = ["--epochs=6", "--train_examples=2000",
                "--test_examples=50", "--batch_size=64", "--seed=3", "--checkpoint_every=5"]
        straight = testing.run_script("train_ednn", *args, f"--export={tmp}/straight", timeout=600)
        self.assertEqual(straight.returncode, 0, straight.stderr[-3000:])
        at = int(np.random.default_rng().integers(20, 120))  # 32 steps an epoch: mostly mid-epoch
        run_dir = f"{tmp}/killed"
        script = os.path.join(testing.CHECKOUT, "bin", "train_ednn")
        job = subprocess.Popen([sys.executable, script, *args, f"--run_dir={run_dir}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while job.poll() is None and time.time() < deadline:
            steps = [int(re.search(r"ckpt-(\d+)", p).group(1))
                     for p in glob.glob(f"{run_dir}/checkpoints/ckpt-*.index")]
            if steps and max(steps) >= at:
                job.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        self.assertEqual(job.wait(), -signal.SIGKILL, "the run ended before it could be killed")
        resumed = testing.run_script("train_ednn", *args, f"--run_dir={run_dir}",
                                     f"--export={tmp}/resumed", timeout=600)
        self.assertEqual(resumed.returncode, 0, resumed.stderr[-3000:])
        a, b = export.load(f"{tmp}/straight"), export.load(f"{tmp}/resumed")
        for x, y in zip(a.get_weights(), b.get_weights()):
            self.assertAllEqual(x, y)

    def test_train_cnn_scores_the_whole_4x4_space(self):
        proc = testing.run_script("train_cnn", "--train_examples=300", "--epochs=1", "--augment",
                                  "--padding=periodic", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertRegex(proc.stdout, r'all \(4x4\): \{"accuracy": [0-9.]+, "within_one": [0-9.]+, '
                                      r'"max_class_error": \d+, "count": 65536\}')

    def test_train_ednn_streams_generated_batches(self):
        proc = testing.run_script("train_ednn", "--stream", "--epochs=2", "--train_examples=400",
                                  "--batch_size=100", "--test_examples=50", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("Epoch 2/2", proc.stdout)
        self.assertRegex(proc.stdout, r"\n4/4 - ")  # train_examples / batch_size steps
        self.assertNotIn("\r", proc.stdout)  # a pipe gets one line per epoch, not a redrawn bar

    def test_train_ednn_under_horovodrun(self):
        # 450 examples in batches of 100: 5 batches, which a per-batch split gives as 3 + 2 steps
        # (the deadlock of the README's command); per rank 225 examples, 3 steps on both ranks
        script = os.path.join(testing.CHECKOUT, "bin", "train_ednn")
        proc = testing.horovodrun([sys.executable, script, "--horovod",
                                   "--train_examples=450", "--test_examples=100", "--batch_size=100",
                                   "--epochs=2"], np=2, timeout=300)
        self.assertIn("trained ednn_quick on 450 examples", proc.stdout)
        self.assertIn("3/3 - ", proc.stdout)
        self.assertEqual(len(re.findall(r"trained ednn_quick", proc.stdout)), 1)  # chief only
