"""The stack works together for real: MirroredStrategy, Horovod, TF-Agents PPO, SavedModel."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.training import distribute

HERE = os.path.dirname(os.path.abspath(__file__))


def _regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1)) + 0.1).astype("float32")
    return x, y


def _small_model():
    inputs = tf.keras.Input(shape=(5,))
    hidden = tf.keras.layers.Dense(8, activation="tanh")(inputs)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1)(hidden))


class MirroredStrategyTest(tf.test.TestCase):
    def test_two_logical_devices_follow_the_single_device_loss_curve(self):
        x, y = _regression_data()
        tf.keras.utils.set_random_seed(1)
        single = _small_model()
        initial = single.get_weights()
        single.compile(tf.keras.optimizers.SGD(0.05), "mse")
        single_loss = single.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)

        strategy = distribute.mirrored(testing.use_logical_cpus(2))
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        with strategy.scope():
            mirrored = _small_model()
            mirrored.set_weights(initial)
            mirrored.compile(tf.keras.optimizers.SGD(0.05), "mse")
        mirrored_loss = mirrored.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)

        curve = mirrored_loss.history["loss"]
        self.assertLess(curve[-1], 0.5 * curve[0])  # it really trained
        self.assertAllClose(curve, single_loss.history["loss"], rtol=1e-5)
        for got, want in zip(mirrored.get_weights(), single.get_weights()):
            self.assertAllClose(got, want, rtol=1e-5, atol=1e-6)


class HorovodTest(tf.test.TestCase):
    def test_two_gloo_ranks_end_with_identical_weights(self):
        out = self.get_temp_dir()
        testing.horovodrun([sys.executable, os.path.join(HERE, "jobs", "horovod_keras_fit.py"), out],
                           np=2)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        # Ranks start from different random weights and see different data shards: identical
        # final weights need both the initial broadcast and the gradient allreduce.
        self.assertNotAllClose(ranks[0]["initial_0"], ranks[1]["initial_0"])
        for key in ranks[0].files:
            if key.startswith("final_"):
                np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
        self.assertNotAllClose(ranks[0]["initial_0"], ranks[0]["final_0"])
        self.assertLess(ranks[0]["loss"][-1], 0.5 * ranks[0]["loss"][0])


class SavedModelTest(tf.test.TestCase):
    def test_export_reloads_in_a_fresh_process_and_predicts_the_same(self):
        x, y = _regression_data()
        model = _small_model()
        model.compile("adam", "mse")
        model.fit(x, y, epochs=1, verbose=0)
        path = os.path.join(self.get_temp_dir(), "model")
        model.save(path)
        np.save(os.path.join(self.get_temp_dir(), "x.npy"), x)
        expected = model.predict(x, verbose=0)

        self.assertAllClose(tf.keras.models.load_model(path).predict(x, verbose=0), expected)
        # A fresh interpreter with no tfphys code: the serving signature alone must reproduce it.
        script = (
            "import sys, numpy as np, tensorflow as tf\n"
            "m = tf.saved_model.load(sys.argv[1])\n"
            "f = m.signatures['serving_default']\n"
            "out = list(f(tf.constant(np.load(sys.argv[2]))).values())[0]\n"
            "np.save(sys.argv[3], out.numpy())\n")
        got_path = os.path.join(self.get_temp_dir(), "got.npy")
        subprocess.run([sys.executable, "-c", script, path,
                        os.path.join(self.get_temp_dir(), "x.npy"), got_path], check=True)
        self.assertAllClose(np.load(got_path), expected, rtol=1e-6, atol=1e-7)
