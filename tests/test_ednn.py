"""EDNN layers: exact tiling, exact extensive sums with a hand-made brain, any input size,
serialization and SavedModel round trips; the CNN and DFT brain architectures."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.errors import InputError
from tfphys.models import cnn, ednn
from tfphys.models.padding import PeriodicPadding2D
from tfphys.physics.spins import ising
from tfphys.training import export


class TilesTest(tf.test.TestCase):
    def test_tiles_are_the_padded_windows_in_row_major_order(self):
        x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype(np.float32)
        f, c = 2, 1
        for padding, mode in (("periodic", "wrap"), ("zeros", "constant")):
            tiles = ednn.Tiles(f, c, padding)(x).numpy()
            padded = np.pad(x, [(0, 0), (c, c), (c, c), (0, 0)], mode=mode)
            want = [padded[b, i * f:i * f + f + 2 * c, j * f:j * f + f + 2 * c]
                    for b in range(2) for i in range(3) for j in range(3)]
            self.assertAllEqual(tiles, np.array(want))

    def test_hand_made_brain_gives_exact_ising_energies_at_every_size(self):
        for f, c in ((1, 1), (2, 1), (4, 1)):
            model = ednn.ednn(testing.exact_ising_brain(f, c), f, c)
            for L in (8, 12, 24):
                s = np.random.default_rng(L).choice([-1.0, 1.0], size=(5, L, L)).astype(np.float32)
                self.assertAllClose(model(s[..., None])[:, 0], ising.energy(s))
                grid = ednn.contributions(model)(s[..., None])
                self.assertEqual(grid.shape, (5, L // f, L // f, 1))
                self.assertAllClose(tf.reduce_sum(grid, axis=[1, 2, 3]), ising.energy(s))

    def test_zero_padding_gives_open_boundaries(self):
        s = np.random.default_rng(3).choice([-1.0, 1.0], size=(4, 6, 6)).astype(np.float32)
        open_energy = -(s[:, :, :-1] * s[:, :, 1:]).sum((1, 2)) - (s[:, :-1] * s[:, 1:]).sum((1, 2))
        model = ednn.ednn(testing.exact_ising_brain(2, 1), 2, 1, padding="zeros")
        self.assertAllClose(model(s[..., None])[:, 0], open_energy)

    def test_sizes_that_are_not_multiples_of_the_focus_are_named(self):
        model = ednn.ednn(ednn.mlp_brain(4, 2), 4, 2)
        with self.assertRaisesRegex(InputError, "height 10 is not a multiple of the EDNN focus 4"):
            ednn.check_input(model, np.zeros((1, 10, 8, 1)))
        with self.assertRaisesRegex(InputError, "channel"):
            ednn.check_input(model, np.zeros((1, 8, 8, 2)))
        with self.assertRaisesRegex(InputError, "brain takes inputs"):
            ednn.ednn(ednn.mlp_brain(1, 1), 2, 1)


class TiledInferenceTest(tf.test.TestCase):
    def test_slabs_give_the_direct_result_at_any_batch_bound(self):
        tf.keras.utils.set_random_seed(1)
        for f, c, padding in ((1, 1, "periodic"), (2, 1, "zeros"), (4, 2, "periodic")):
            model = ednn.ednn(ednn.mlp_brain(f, c), f, c, padding=padding)
            x = np.random.default_rng(f).choice([-1.0, 1.0], size=(3, 16, 24, 1)).astype(np.float32)
            direct = model(x).numpy()
            for max_tiles in (1, 7, 50, 10 ** 6):
                self.assertAllClose(ednn.predict_tiled(model, x, max_tiles), direct, rtol=1e-5, atol=1e-4)
            halves = [ednn.predict_tiled(model, x, 50, slabs=range(k, ednn.slab_count(model, x, 50)[0], 2))
                      for k in (0, 1)]
            self.assertAllClose(halves[0] + halves[1], ednn.predict_tiled(model, x, 50), rtol=1e-12)

    def test_hand_made_brain_is_exact_on_a_large_lattice(self):
        model = ednn.ednn(testing.exact_ising_brain(1, 1), 1, 1)
        s = np.random.default_rng(9).choice([-1.0, 1.0], size=(1, 256, 256)).astype(np.float32)
        self.assertAllClose(ednn.predict_tiled(model, s[..., None], 4096)[:, 0], ising.energy(s))


class SerializationTest(tf.test.TestCase):
    def test_config_round_trip_and_savedmodel_at_two_sizes(self):
        tf.keras.utils.set_random_seed(0)
        model = ednn.ednn(ednn.mlp_brain(1, 1), 1, 1)
        clone = tf.keras.Model.from_config(model.get_config())
        clone.set_weights(model.get_weights())
        small = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, 8, 8, 1)).astype(np.float32)
        large = np.random.default_rng(1).choice([-1.0, 1.0], size=(2, 32, 32, 1)).astype(np.float32)
        self.assertAllClose(clone(large), model(large))

        path = export.export(model, os.path.join(self.get_temp_dir(), "ednn"))
        export.export(model, path)  # replacing an export leaves one clean directory
        self.assertEqual(sorted(os.listdir(self.get_temp_dir())), ["ednn"])
        reloaded = export.load(path)
        for x in (small, large):
            self.assertAllClose(reloaded(x), model(x), atol=1e-5)
        self.assertAllClose(ednn.contributions(reloaded)(large), ednn.contributions(model)(large), atol=1e-5)
        np.save(os.path.join(self.get_temp_dir(), "large.npy"), large)
        script = ("import sys, numpy as np, tensorflow as tf\n"
                  "f = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
                  "print(float(list(f(tf.constant(np.load(sys.argv[2]))).values())[0][1, 0]))\n")
        out = subprocess.run([sys.executable, "-c", script, path,
                              os.path.join(self.get_temp_dir(), "large.npy")],
                             capture_output=True, text=True, check=True).stdout
        self.assertAllClose(float(out.strip().splitlines()[-1]), float(model(large)[1, 0]), atol=1e-4)
        with self.assertRaisesRegex(InputError, "no exported model"):
            export.load(os.path.join(self.get_temp_dir(), "missing"))


class ArchitectureTest(tf.test.TestCase):
    def test_mills_cnn_and_dft_brain_follow_the_thesis(self):
        model = cnn.mills_cnn(outputs=15)
        convs = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
        self.assertEqual([layer.strides[0] for layer in convs], [2, 1, 1, 2, 1, 1, 2])
        self.assertEqual([layer.filters for layer in convs], [32, 16, 16, 32, 16, 16, 32])
        self.assertEqual([layer.kernel_size[0] for layer in convs], [3, 4, 4, 3, 4, 4, 3])
        self.assertEqual(model.output_shape, (None, 15))
        self.assertEqual(model.get_layer("dense").units, 1024)
        brain = ednn.dft_cnn_brain()
        convs = [layer for layer in brain.layers if isinstance(layer, tf.keras.layers.Conv2D)]
        self.assertLen(convs, 13)
        self.assertEqual([layer.strides[0] for layer in convs], [2, 2] + [1] * 6 + [2] + [1] * 4)
        self.assertEqual(brain.input_shape, (None, 128, 128, 1))
        mlp = ednn.mlp_brain(1, 1)
        self.assertEqual([layer.units for layer in mlp.layers if isinstance(layer, tf.keras.layers.Dense)],
                         [288, 64, 64, 1])

    def test_periodic_cnn_is_translation_equivariant_on_the_torus(self):
        x = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, 16, 16, 1)).astype(np.float32)
        padded = PeriodicPadding2D(4)(tf.constant(x)).numpy()
        self.assertAllEqual(padded, np.pad(x, [(0, 0), (1, 2), (1, 2), (0, 0)], mode="wrap"))
        model = cnn.mills_cnn(outputs=15, padding="periodic")
        self.assertEqual(model.output_shape, (None, 15))
        # Up to the first reduction (stride 2) features move with the lattice: shifting the
        # configuration by an even amount shifts the stride-2 feature map by half of it.
        for net, equivariant in ((model, True), (cnn.mills_cnn(outputs=15), False)):
            features = tf.keras.Model(net.input, net.get_layer("nonreducing_1_1").output)
            shifted = features(np.roll(x, (4, -2), axis=(1, 2))).numpy()
            expected = np.roll(features(x).numpy(), (2, -1), axis=(1, 2))
            self.assertEqual(np.allclose(shifted, expected, atol=1e-5), equivariant)
        clone = tf.keras.Model.from_config(model.get_config())
        self.assertEqual(clone.get_layer("reducing_0_pad").get_config()["stride"], 2)
        reloaded = export.load(export.export(model, os.path.join(self.get_temp_dir(), "cnn")))
        self.assertAllClose(reloaded(x), model(x))
        with self.assertRaisesRegex(InputError, "padding"):
            cnn.mills_cnn(padding="mirror")
