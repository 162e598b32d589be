"""Periodic padding, the periodic transposed convolution and the periodic dilated convolution
against Keras's own layers applied to periodically tiled inputs (the torus unrolled), and their
translation equivariance."""

import numpy as np
import tensorflow as tf

from tfphys.models.padding import (PeriodicConv2DTranspose, PeriodicDilatedConv2D,
                                   PeriodicPadding2D)


class PeriodicPaddingTest(tf.test.TestCase):
    def test_a_padded_convolution_is_the_centre_of_a_tiled_one(self):
        x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype(np.float32)
        conv = tf.keras.layers.Conv2D(3, 3, padding="valid")
        y = conv(PeriodicPadding2D(3)(x)).numpy()
        big = tf.keras.layers.Conv2D(3, 3, padding="same", weights=conv.get_weights())
        self.assertAllClose(y, big(np.tile(x, (1, 3, 3, 1))).numpy()[:, 6:12, 6:12], atol=1e-5)


class PeriodicConv2DTransposeTest(tf.test.TestCase):
    def test_equals_keras_same_transposed_convolution_of_the_tiled_input(self):
        for kernel, stride in ((3, 1), (4, 2), (3, 2), (5, 1)):
            x = np.random.default_rng(kernel).normal(size=(2, 4, 5, 3)).astype(np.float32)
            layer = PeriodicConv2DTranspose(5, kernel, stride)
            y = layer(x).numpy()
            self.assertEqual(y.shape, (2, 4 * stride, 5 * stride, 5))
            keras = tf.keras.layers.Conv2DTranspose(5, kernel, stride, padding="same")
            keras.build(x.shape)
            keras.set_weights(layer.get_weights())
            tiled = keras(np.tile(x, (1, 3, 3, 1))).numpy()
            h, w = 4 * stride, 5 * stride
            self.assertAllClose(y, tiled[:, h:2 * h, w:2 * w], atol=1e-5)
            # a shift by one input site shifts the output by `stride`, across the edge too
            moved = layer(np.roll(x, (1, -2), axis=(1, 2))).numpy()
            self.assertAllClose(moved, np.roll(y, (stride, -2 * stride), axis=(1, 2)), atol=1e-5)

    def test_any_size_and_a_config_round_trip(self):
        inputs = tf.keras.Input((None, None, 2))
        model = tf.keras.Model(inputs, PeriodicConv2DTranspose(1, 4, 2, activation="tanh")(inputs))
        copy = tf.keras.Model.from_config(model.get_config())
        copy.set_weights(model.get_weights())
        for n in (2, 3, 7):
            x = np.random.default_rng(n).normal(size=(1, n, n, 2)).astype(np.float32)
            self.assertEqual(model(x).shape, (1, 2 * n, 2 * n, 1))
            self.assertAllClose(copy(x), model(x))
            self.assertTrue(np.all(np.abs(model(x)) < 1))


class PeriodicDilatedConv2DTest(tf.test.TestCase):
    def test_equals_keras_dilated_convolution_of_the_tiled_input(self):
        # dilations below, at and above the side (a tap past the whole torus wraps again)
        for kernel, dilation in ((3, 1), (3, 2), (3, 4), (3, 6), (5, 3)):
            x = np.random.default_rng(dilation).normal(size=(2, 4, 5, 3)).astype(np.float32)
            layer = PeriodicDilatedConv2D(2, dilation, kernel, activation="relu")
            y = layer(x).numpy()
            self.assertEqual(y.shape, (2, 4, 5, 2))
            keras = tf.keras.layers.Conv2D(2, kernel, dilation_rate=dilation, padding="same",
                                           activation="relu")
            keras.build(x.shape)
            keras.set_weights(layer.get_weights())
            tiled = keras(np.tile(x, (1, 7, 7, 1))).numpy()
            self.assertAllClose(y, tiled[:, 12:16, 15:20], atol=1e-5)
            moved = layer(np.roll(x, (1, -3), axis=(1, 2))).numpy()
            self.assertAllClose(moved, np.roll(y, (1, -3), axis=(1, 2)), atol=1e-5)

    def test_any_size_and_a_config_round_trip(self):
        inputs = tf.keras.Input((None, None, 2))
        model = tf.keras.Model(inputs, PeriodicDilatedConv2D(3, 4, activation="tanh")(inputs))
        copy = tf.keras.Model.from_config(model.get_config())
        copy.set_weights(model.get_weights())
        for n in (2, 3, 9):
            x = np.random.default_rng(n).normal(size=(1, n, n + 1, 2)).astype(np.float32)
            self.assertEqual(model(x).shape, (1, n, n + 1, 3))
            self.assertAllClose(copy(x), model(x))
