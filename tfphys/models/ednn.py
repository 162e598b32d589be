"""Extensive deep neural networks (EDNN; thesis ch. "Extensive deep neural networks").

An L x L input is padded by the context c (periodic or zeros) and cut into (L/f)^2 tiles of
(f + 2c)^2 pixels, one per f x f focus region. The batch and tile axes are merged so one shared
"brain" sees every tile; its outputs are reshaped to the tile-contribution tensor C of shape
(batch, H/f, W/f, outputs) and summed over tiles. The loss is applied after the sum. Inputs of
any size that is a multiple of f work with the same weights (train small, infer large).
"""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models.padding import periodic_pad

PADDINGS = ("periodic", "zeros")
CONTRIBUTIONS = "tile_contributions"


def _check_focus(size, focus, axis):
    if size is not None and size % focus:
        raise InputError(f"input {axis} {size} is not a multiple of the EDNN focus {focus}; "
                         f"crop or pad the input to a multiple of {focus}")


@tf.keras.utils.register_keras_serializable("tfphys")
class Tiles(tf.keras.layers.Layer):
    """(batch, H, W, C) -> (batch * H/f * W/f, f + 2c, f + 2c, C) tiles, row-major per image."""

    def __init__(self, focus, context, padding="periodic", **kwargs):
        super().__init__(**kwargs)
        if focus < 1 or context < 0:
            raise InputError(f"EDNN needs focus >= 1 and context >= 0, got f={focus}, c={context}")
        if padding not in PADDINGS:
            raise InputError(f"unknown EDNN padding {padding!r}; choose one of {PADDINGS}")
        self.focus, self.context, self.padding = int(focus), int(context), padding

    def _pad(self, x):
        c = self.context
        if not c:
            return x
        if self.padding == "zeros":
            return tf.pad(x, [[0, 0], [c, c], [c, c], [0, 0]])
        height = tf.shape(x)[1]
        tf.debugging.assert_greater_equal(height, c, message="EDNN periodic context exceeds the input")
        return periodic_pad(x, c, c)

    def call(self, x):
        _check_focus(x.shape[1], self.focus, "height")
        _check_focus(x.shape[2], self.focus, "width")
        tf.debugging.assert_equal(tf.shape(x)[1:3] % self.focus, 0, message=(
            f"EDNN input height and width must be multiples of the focus {self.focus}"))
        size = self.focus + 2 * self.context
        patches = tf.image.extract_patches(self._pad(x), [1, size, size, 1],
                                           [1, self.focus, self.focus, 1], [1, 1, 1, 1], "VALID")
        return tf.reshape(patches, [-1, size, size, x.shape[-1]])

    def get_config(self):
        return {**super().get_config(), "focus": self.focus, "context": self.context,
                "padding": self.padding}


@tf.keras.utils.register_keras_serializable("tfphys")
class TileGrid(tf.keras.layers.Layer):
    """Brain outputs (batch * tiles, k) back to the contribution tensor (batch, H/f, W/f, k)."""

    def __init__(self, focus, **kwargs):
        super().__init__(**kwargs)
        self.focus = int(focus)

    def call(self, inputs):
        contributions, image = inputs
        shape = tf.shape(image)
        grid = [shape[0], shape[1] // self.focus, shape[2] // self.focus, contributions.shape[-1]]
        return tf.reshape(contributions, grid)

    def get_config(self):
        return {**super().get_config(), "focus": self.focus}


@tf.keras.utils.register_keras_serializable("tfphys")
class SumTiles(tf.keras.layers.Layer):
    """Sum of the tile contributions: (batch, H/f, W/f, k) -> (batch, k), the extensive output."""

    def call(self, grid):
        return tf.reduce_sum(grid, axis=[1, 2])


def ednn(brain, focus, context, channels=1, padding="periodic", name="ednn"):
    """Wrap a brain (a Keras model on (f+2c, f+2c, channels) tiles) into an EDNN."""
    size = focus + 2 * context
    expected = (None, size, size, channels)
    if tuple(brain.input_shape) != expected:
        raise InputError(f"the brain takes inputs {brain.input_shape}; an EDNN with f={focus}, "
                         f"c={context} and {channels} channel(s) feeds it {expected}")
    inputs = tf.keras.Input((None, None, channels), name="configuration")
    tiles = Tiles(focus, context, padding, name="tiles")(inputs)
    grid = TileGrid(focus, name=CONTRIBUTIONS)([brain(tiles), inputs])
    return tf.keras.Model(inputs, SumTiles(name="extensive_sum")(grid), name=name)


def check_input(model, x):
    """Raise InputError unless `x` (batch, H, W, C) fits the EDNN `model` (H, W multiples of f,
    the right channel count): the clear message before TensorFlow's traced one."""
    tiles = model.get_layer("tiles")
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 4:
        raise InputError(f"EDNN inputs must have shape (batch, H, W, channels), got {shape}")
    _check_focus(shape[1], tiles.focus, "height")
    _check_focus(shape[2], tiles.focus, "width")
    if shape[3] != model.input_shape[-1]:
        raise InputError(f"EDNN expects {model.input_shape[-1]} channel(s), got {shape[3]}")


def contributions(model):
    """A model giving the tile-contribution tensor C (batch, H/f, W/f, k) of an EDNN: the
    density map of the learned extensive quantity."""
    return tf.keras.Model(model.input, model.get_layer(CONTRIBUTIONS).output,
                          name=f"{model.name}_contributions")


def mlp_brain(focus, context, channels=1, outputs=1):
    """The thesis's Ising brain: dense 32 (f + 2c)^2 -> 64 -> 64 -> outputs, ReLU."""
    size = focus + 2 * context
    inputs = tf.keras.Input((size, size, channels))
    x = tf.keras.layers.Flatten()(inputs)
    x = tf.keras.layers.Dense(32 * size * size, activation="relu")(x)
    x = tf.keras.layers.Dense(64, activation="relu")(x)
    x = tf.keras.layers.Dense(64, activation="relu")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(outputs)(x), name="mlp_brain")


def dft_cnn_brain(focus=64, context=32, channels=1, outputs=1, normalize=False):
    """The thesis's 13-convolution DFT brain: 2 reducing 3x3/64, 6 non-reducing 4x4/16,
    1 reducing 3x3/64, 4 non-reducing 3x3/32, dense 1024 -> outputs, ReLU. He-initialised:
    with Keras's default (Glorot) the signal shrinks ~1000x through the 14 ReLU layers and
    training stalls at the mean. `normalize`: batch normalization of the 1024 features before
    the output layer (an affine map per feature at inference, so the sum over tiles stays
    extensive)."""
    size = focus + 2 * context
    inputs = tf.keras.Input((size, size, channels))
    x = inputs
    plan = [(64, 3, 2)] * 2 + [(16, 4, 1)] * 6 + [(64, 3, 2)] + [(32, 3, 1)] * 4
    for filters, kernel, stride in plan:
        x = tf.keras.layers.Conv2D(filters, kernel, strides=stride, padding="same",
                                   activation="relu", kernel_initializer="he_normal")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(1024, activation="relu", kernel_initializer="he_normal")(x)
    if normalize:
        x = tf.keras.layers.BatchNormalization(name="features")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(outputs)(x), name="dft_cnn_brain")


def brain_of(model):
    """The shared network inside an EDNN model."""
    nested = [layer for layer in model.layers if isinstance(layer, tf.keras.Model)]
    if len(nested) != 1:
        raise InputError(f"{model.name} is not an EDNN built by tfphys.models.ednn.ednn")
    return nested[0]


def slab_count(model, x, max_tiles=1 << 16):
    """Number of row slabs `predict_tiled` cuts `x` into to keep <= max_tiles tiles per call."""
    f = model.get_layer("tiles").focus
    rows, cols = x.shape[1] // f, x.shape[2] // f
    per_slab = max(1, max_tiles // max(1, x.shape[0] * cols))
    return -(-rows // per_slab), per_slab


def predict_tiled(model, x, max_tiles=1 << 16, slabs=None):
    """The EDNN's extensive output for inputs too large to evaluate at once: O(N) time and
    O(max_tiles) memory. The image is padded once, then cut into row slabs whose tiles go
    through the brain in batches of at most `max_tiles`; contributions add up in float64.
    `slabs` restricts the sum to some slab indices (a distributed run gives each worker its
    share, see tfphys.training.inference). Returns (batch, outputs) float64."""
    x = np.asarray(x, np.float32)
    check_input(model, x)
    tiles = model.get_layer("tiles")
    f, c = tiles.focus, tiles.context
    size = f + 2 * c
    brain = brain_of(model)
    mode = "wrap" if tiles.padding == "periodic" else "constant"
    padded = np.pad(x, [(0, 0), (c, c), (c, c), (0, 0)], mode=mode)
    n_slabs, per_slab = slab_count(model, x, max_tiles)
    total = np.zeros((x.shape[0], brain.output_shape[-1]))
    for s in range(n_slabs) if slabs is None else slabs:
        top = s * per_slab * f
        bottom = min(x.shape[1], top + per_slab * f)
        patches = tf.image.extract_patches(padded[:, top:bottom + 2 * c], [1, size, size, 1],
                                           [1, f, f, 1], [1, 1, 1, 1], "VALID")
        out = brain(tf.reshape(patches, [-1, size, size, x.shape[-1]]), training=False).numpy()
        total += out.reshape(x.shape[0], -1, out.shape[-1]).astype(np.float64).sum(axis=1)
    return total
