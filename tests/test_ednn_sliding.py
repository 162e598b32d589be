"""The EDNN as one convolutional pass equals the tile-by-tile EDNN (periodic and zero context,
several channels and outputs, non-square images, the tile-contribution grid, the Ising MLP
brain), and brains it cannot slide are refused in one line."""

import os

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.models.ednn_sliding import conv_brain, sliding
from tfphys.training import export


class SlidingTest(tf.test.TestCase):
    def test_equals_explicit_tiles(self):
        rng = np.random.default_rng(0)
        for focus, context, channels, outputs, padding, convs in (
                (8, 8, 1, 1, "zeros", 2), (8, 4, 3, 2, "periodic", 2),
                (4, 2, 1, 1, "periodic", 1)):
            tf.keras.utils.set_random_seed(focus + context)
            brain = conv_brain(focus, context, channels, outputs, filters=8, dense=16,
                               convs=convs)
            model = ednn.ednn(brain, focus, context, channels, padding)
            fast = sliding(model)
            x = rng.normal(size=(3, 5 * focus, 3 * focus, channels)).astype(np.float32)
            self.assertAllClose(fast(x), model(x), rtol=1e-5, atol=1e-5)
            self.assertAllClose(ednn.contributions(fast)(x), ednn.contributions(model)(x),
                                rtol=1e-5, atol=1e-5)
        ising = ednn.ednn(ednn.mlp_brain(2, 1), 2, 1)  # no convolutions: Dense as a 4x4 conv
        spins = rng.choice([-1.0, 1.0], size=(4, 6, 8, 1)).astype(np.float32)
        self.assertAllClose(sliding(ising)(spins), ising(spins), rtol=1e-5, atol=1e-5)

    def test_export_round_trip(self):
        model = ednn.ednn(conv_brain(8, 4, outputs=2, filters=8, dense=16, convs=2), 8, 4,
                          padding="zeros")
        fast = sliding(model)
        path = os.path.join(self.get_temp_dir(), "sliding")
        export.export(fast, path, {"kind": "test"})
        x = np.random.default_rng(1).normal(size=(2, 24, 40, 1)).astype(np.float32)
        self.assertAllClose(export.load(path)(x), model(x), rtol=1e-5, atol=1e-5)

    def test_default_depth_and_refusals(self):
        brain = conv_brain(8, 8)  # the counting paper's digits tile: 24 -> 11 -> 4 -> 1
        self.assertEqual([l.output_shape[1] for l in brain.layers if "conv" in l.name],
                         [11, 4, 1])
        wide = conv_brain(8, 8, width=256)  # only the last convolution widened
        self.assertEqual([l.filters for l in wide.layers if "conv" in l.name], [64, 64, 256])
        rgb = conv_brain(8, 12)  # 32 -> 15 -> 6 -> 2: a fourth valid 4x4 would not fit
        self.assertEqual([l.output_shape[1] for l in rgb.layers if "conv" in l.name], [15, 6, 2])
        with self.assertRaisesRegex(InputError, "do not fit"):
            conv_brain(2, 1, convs=3)
        with self.assertRaisesRegex(InputError, "total stride 8 does not divide the focus 4"):
            sliding(ednn.ednn(conv_brain(4, 10, convs=3), 4, 10))
        inputs = tf.keras.Input((4, 4, 1))
        pooled = tf.keras.layers.Flatten()(tf.keras.layers.MaxPooling2D()(inputs))
        with self.assertRaisesRegex(InputError, "is not convolutions -> Flatten -> Dense"):
            sliding(ednn.ednn(tf.keras.Model(inputs, tf.keras.layers.Dense(1)(pooled)), 2, 1))
        with self.assertRaisesRegex(InputError, "not a valid-padded"):
            sliding(ednn.ednn(ednn.dft_cnn_brain(16, 8), 16, 8))
