"""The spin-model / Schrodinger CNN of the thesis (Fig. 1 of the spin-model paper).

Reducing convolutions (3x3, stride 2) with non-reducing ones (4x4, stride 1) between each pair,
ReLU everywhere, a fully connected layer of 1024 and a linear head: `outputs` logits for
classification (softmax cross-entropy on energy classes) or one value for regression (MSE).
The spin model uses 3 reducing layers of 32 filters on 16x16 inputs; the Schrodinger model 7
reducing layers of 64 filters on 256x256.
The thesis pads with zeros ("same"); `padding="periodic"` wraps the edges instead, which shows
the convolutions the bonds across the boundary of a periodic lattice.
"""

import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models.padding import PeriodicPadding2D

PADDINGS = ("zeros", "periodic")


def mills_cnn(input_shape=(16, 16, 1), outputs=1, reducing=3, reducing_filters=32,
              nonreducing_per_gap=2, nonreducing_filters=16, dense=1024, padding="zeros",
              name="mills_cnn", initializer="glorot_uniform"):
    """Build the CNN: R (N x nonreducing_per_gap R) x (reducing - 1), then dense, then head.
    `initializer` of the ReLU layers: Keras's Glorot default (the spin and Schrödinger
    figures), or "he_normal" for deep stacks on weak inputs (sheet images), where Glorot's
    signal fades through the layers and training stalls at the mean."""
    if padding not in PADDINGS:
        raise InputError(f"unknown CNN padding {padding!r}; choose one of {PADDINGS}")

    def conv(x, filters, kernel, stride, name):
        if padding == "periodic":
            x = PeriodicPadding2D(kernel, stride, name=f"{name}_pad")(x)
        return tf.keras.layers.Conv2D(filters, kernel, strides=stride, activation="relu", name=name,
                                      padding="valid" if padding == "periodic" else "same",
                                      kernel_initializer=initializer)(x)

    inputs = tf.keras.Input(input_shape, name="configuration")
    x = inputs
    for i in range(reducing):
        if i:
            for j in range(nonreducing_per_gap):
                x = conv(x, nonreducing_filters, 4, 1, f"nonreducing_{i}_{j}")
        x = conv(x, reducing_filters, 3, 2, f"reducing_{i}")
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(dense, activation="relu", name="dense",
                              kernel_initializer=initializer)(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(outputs, name="head")(x), name=name)
