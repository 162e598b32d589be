"""Hexagonal convolution on the torus, as a Keras layer (HexagDLY's semantics, which exist only
for PyTorch): data on a triangular (hexagonal-pixel) lattice stored as a rectangular array whose
odd columns sit half a pixel lower (the layout of `tfphys.physics.atoms.zigzag`); a kernel of
radius k holds one weight per site within k hexagonal steps (1 + 3k(k + 1) of them: 7 at
k = 1, 19 at k = 2), the same weights for every site whatever its column's parity.

Implementation: the neighbour at axial offset (dq, dr) sits dq columns and dr + floor(dq / 2)
rows away from a centre in an even column, dr + floor((dq + 1) / 2) from one in an odd column,
so the layer scatters its weights into two (2k + 1)^2 rectangular kernels, runs both as
ordinary convolutions over the periodically padded input and keeps each column's own. The
width must be even (otherwise the wrap would join two columns of one parity).

`generator` and `critic` are the thesis's RUGAN for porous sheets (section 4.3) on these
layers; they train with `tfphys.models.gan.RUGAN` (upscale 1: the latent is lattice-sized);
`regressor` is the optional label regressor of its label term (not in the thesis).
"""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models.gan import CountedDropout, label_inputs
from tfphys.models.padding import PeriodicPadding2D


def offsets(radius):
    """The axial offsets (dq, dr) within `radius` hexagonal steps, centre first."""
    near = [(dq, dr) for dq in range(-radius, radius + 1) for dr in range(-radius, radius + 1)
            if max(abs(dq), abs(dr), abs(dq + dr)) <= radius]
    return sorted(near, key=lambda o: (max(abs(o[0]), abs(o[1]), abs(o[0] + o[1])), o))


def placements(radius):
    """(2, 2k + 1, 2k + 1, n_offsets) 0/1: where each offset's weight goes in the rectangular
    kernel of a centre in an even (0) and an odd (1) column."""
    near = offsets(radius)
    out = np.zeros((2, 2 * radius + 1, 2 * radius + 1, len(near)), np.float32)
    for parity in (0, 1):
        for k, (dq, dr) in enumerate(near):
            out[parity, radius + dr + (dq + parity) // 2, radius + dq, k] = 1.0
    return out


@tf.keras.utils.register_keras_serializable("tfphys")
class HexConv2D(tf.keras.layers.Layer):
    """(batch, H, W, C) -> (batch, H, W, filters): a periodic hexagonal convolution of
    `radius` (HexagDLY's kernel_size) with bias and optional activation; W even."""

    def __init__(self, filters, radius=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.radius, self.use_bias = int(filters), int(radius), bool(use_bias)
        if self.radius < 1:
            raise InputError(f"a hexagonal kernel needs radius >= 1, got {radius}")
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.pad = PeriodicPadding2D(2 * self.radius + 1)

    def build(self, input_shape):
        if input_shape[2] is not None and input_shape[2] % 2:
            raise InputError(f"a hexagonal lattice stored with offset columns needs an even "
                             f"width on the torus, got {input_shape[2]}")
        n = len(offsets(self.radius))
        self.kernel = self.add_weight(name="kernel", shape=(n, input_shape[-1], self.filters),
                                      initializer=self.kernel_initializer)
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
                     if self.use_bias else None)
        self.placements = tf.constant(placements(self.radius))

    def call(self, x):
        padded = self.pad(x)
        kernels = tf.einsum("phwk,kio->phwio", tf.cast(self.placements, x.dtype),
                            tf.cast(self.kernel, x.dtype))
        even, odd = (tf.nn.conv2d(padded, kernels[p], 1, "VALID") for p in (0, 1))
        odd_column = tf.range(tf.shape(x)[2]) % 2 == 1
        out = tf.where(odd_column[None, None, :, None], odd, even)
        if self.bias is not None:
            out = out + tf.cast(self.bias, x.dtype)
        return self.activation(out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "radius": self.radius,
                "activation": tf.keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer)}


@tf.keras.utils.register_keras_serializable("tfphys")
class HoneycombMask(tf.keras.layers.Layer):
    """Sets the hexagon centres of a zig-zag encoding (`tfphys.physics.atoms.zigzag.mask`:
    row % 3 == 1 + column % 2) to -1, the empty site, at any lattice size."""

    def call(self, x):
        rows = tf.range(tf.shape(x)[1])[:, None]
        cols = tf.range(tf.shape(x)[2])[None, :]
        centre = tf.equal(rows % 3, 1 + cols % 2)[None, :, :, None]
        return tf.where(centre, -tf.ones_like(x), x)


def _block(x, filters, name, dropout=0.0, seed=0):
    """Residual block of two radius-1 hexagonal convolutions (a 1-site projection on the skip
    when the channels change), optional dropout between them."""
    h = HexConv2D(filters, 1, name=f"{name}_conv1")(tf.keras.layers.LeakyReLU(0.2)(x))
    if dropout:
        h = CountedDropout(dropout, seed=seed, name=f"{name}_dropout")(h)
    h = HexConv2D(filters, 1, name=f"{name}_conv2")(tf.keras.layers.LeakyReLU(0.2)(h))
    skip = x if x.shape[-1] == filters else tf.keras.layers.Conv2D(
        filters, 1, name=f"{name}_skip")(x)
    return tf.keras.layers.Add(name=f"{name}_sum")([skip, h])


def generator(noise_channels=63, labels=1, filters=64, name="hexagonal_generator"):
    """The thesis's sheet generator: noise (batch, H, W, noise_channels) and labels (batch,
    labels) as extra channels -> encoding (batch, H, W, 1) in [-1, 1] with the hexagon centres
    -1. Three residual hexagonal blocks, one batch normalization, a final hexagonal
    convolution, tanh; every operation periodic and translation-equivariant, so any H multiple
    of 3 and W even works (24 x 28 trained, 48 x 56 is four times the area)."""
    inputs, x = label_inputs(tf.keras.Input((None, None, noise_channels), name="latent"), labels)
    x = HexConv2D(filters, 1, name="stem")(x)
    for i in range(3):
        x = _block(x, filters, f"res{i}")
    x = tf.keras.layers.BatchNormalization(name="norm")(x)
    x = HexConv2D(1, 1, activation="tanh", name="head")(tf.keras.layers.LeakyReLU(0.2)(x))
    return tf.keras.Model(inputs, HoneycombMask(name="mask")(x), name=name)


def critic(labels=1, filters=64, blocks=3, dropout=0.25, name="hexagonal_critic"):
    """Encoding (batch, H, W, 1) and labels (batch, labels) -> one score each: residual
    hexagonal blocks without batch normalization (the gradient penalty needs per-sample
    gradients), `dropout` in the first two (the consistency term), a lattice average, dense."""
    inputs, x = label_inputs(tf.keras.Input((None, None, 1), name="encoding"), labels)
    x = HexConv2D(filters, 1, name="stem")(x)
    for i in range(blocks):
        x = _block(x, filters, f"res{i}", dropout=dropout if i < 2 else 0.0, seed=i + 1)
    x = tf.keras.layers.GlobalAveragePooling2D(name="pool")(tf.keras.layers.LeakyReLU(0.2)(x))
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1, name="score")(x), name=name)


def regressor(labels=1, filters=16, name="hexagonal_regressor"):
    """Encoding (batch, H, W, 1) -> labels (batch, labels) at any size: two radius-1 hexagonal
    ReLU convolutions, a lattice average and a dense layer: each site contributes a learned
    function of the sites within two steps (a carbon's first and second neighbours), the
    kind of environment sum that fits porous energies per area (benchmarks/sheet_peers.py).
    What a sheet RUGAN's label term measures generated sheets with."""
    x = encoding = tf.keras.Input((None, None, 1), name="encoding")
    for i in range(2):
        x = HexConv2D(filters, 1, activation="relu", name=f"conv{i}")(x)
    x = tf.keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return tf.keras.Model(encoding, tf.keras.layers.Dense(labels, name="labels")(x), name=name)
