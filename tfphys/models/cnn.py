"""The spin-model / Schrodinger CNN of the thesis (Fig. 1 of the spin-model paper).

Reducing convolutions (3x3, stride 2) with non-reducing ones (4x4, stride 1) between each pair,
ReLU everywhere, a fully connected layer of 1024 and a linear head: `outputs` logits for
classification (softmax cross-entropy on energy classes) or one value for regression (MSE).
The spin model uses 3 reducing layers of 32 filters on 16x16 inputs; the Schrodinger model 7
reducing layers of 64 filters on 256x256.
"""

import tensorflow as tf


def mills_cnn(input_shape=(16, 16, 1), outputs=1, reducing=3, reducing_filters=32,
              nonreducing_per_gap=2, nonreducing_filters=16, dense=1024, name="mills_cnn"):
    """Build the CNN: R (N x nonreducing_per_gap R) x (reducing - 1), then dense, then head."""
    inputs = tf.keras.Input(input_shape, name="configuration")
    x = inputs
    for i in range(reducing):
        if i:
            for j in range(nonreducing_per_gap):
                x = tf.keras.layers.Conv2D(nonreducing_filters, 4, padding="same", activation="relu",
                                           name=f"nonreducing_{i}_{j}")(x)
        x = tf.keras.layers.Conv2D(reducing_filters, 3, strides=2, padding="same",
                                   activation="relu", name=f"reducing_{i}")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(dense, activation="relu", name="dense")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(outputs, name="head")(x), name=name)
