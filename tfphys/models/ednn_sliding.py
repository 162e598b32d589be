"""The EDNN as one fully convolutional pass over the whole image, for brains that allow it.

Cutting (f + 2c)^2 tiles at stride f repeats every pixel ((f + 2c) / f)^2 times (4x at
c = f / 2). A brain of valid-padded convolutions whose total stride S divides f, followed by
Flatten and Dense layers, computes the same numbers when its convolutions slide over the whole
padded image: tile (i, j)'s convolution outputs are the whole-image outputs at (i, j) f / S
onwards. The first Dense layer on the k x k x C map becomes a k x k convolution of stride f / S
and later Dense layers 1 x 1 convolutions, so the pass yields the tile-contribution grid
directly (a brain without convolutions, e.g. the Ising MLP, slides too: its first Dense layer
is an (f + 2c)^2 convolution of stride f). `sliding(model)` builds that model from a trained EDNN (sharing its convolution
layers, copying the Dense weights); `conv_brain` builds such a brain (the counting paper's
tile CNN: 4 x 4, stride 2 convolutions).
"""

import math

import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.models.padding import periodic_pad


@tf.keras.utils.register_keras_serializable("tfphys")
class ContextPadding(tf.keras.layers.Layer):
    """Pad height and width by the EDNN context: periodic (wrapped) or zeros."""

    def __init__(self, context, padding="periodic", **kwargs):
        super().__init__(**kwargs)
        if padding not in ednn.PADDINGS:
            raise InputError(f"unknown EDNN padding {padding!r}; choose one of {ednn.PADDINGS}")
        self.context, self.padding = int(context), padding

    def call(self, x):
        c = self.context
        if self.padding == "periodic":
            return periodic_pad(x, c, c)
        return tf.pad(x, [[0, 0], [c, c], [c, c], [0, 0]])

    def get_config(self):
        return {**super().get_config(), "context": self.context, "padding": self.padding}


def tile_convolutions(focus, context, kernel=4):
    """The paper's floor(log2(f + 2c) - 1) valid stride-2 convolutions of a (f + 2c)^2 tile, or
    as many as fit without padding (f = 8, c = 12: 3, not 4)."""
    size = focus + 2 * context
    convs, side = 0, size
    while convs < math.floor(math.log2(size) - 1) and (side - kernel) // 2 + 1 >= 1:
        convs, side = convs + 1, (side - kernel) // 2 + 1
    return convs


def conv_brain(focus, context, channels=1, outputs=1, filters=64, kernel=4, convs=None,
               dense=1024, name="conv_brain", width=None):
    """Valid-padded convolutions (stride 2, ReLU) -> dense -> `outputs`: a brain `sliding`
    evaluates in one pass when 2^convs divides f; by default `tile_convolutions` of them.
    `width`: the last convolution's filters (default `filters`), the features the dense layer
    reads. The output layer is float32 under any policy (fit.built)."""
    size = focus + 2 * context
    if convs is None:
        convs = tile_convolutions(focus, context, kernel)
    inputs = tf.keras.Input((size, size, channels))
    x, side = inputs, size
    for i in range(convs):
        side = (side - kernel) // 2 + 1
        if side < 1:
            raise InputError(f"{convs} valid {kernel}x{kernel} convolutions do not fit a "
                             f"{size}x{size} tile; use fewer")
        x = tf.keras.layers.Conv2D((width or filters) if i == convs - 1 else filters, kernel,
                                   strides=2, activation="relu", name=f"conv_{i}")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(dense, activation="relu", name="dense")(x)
    head = tf.keras.layers.Dense(outputs, name="head", dtype="float32")
    return tf.keras.Model(inputs, head(x), name=name)


def _plan(brain, focus):
    """(convolution layers, dense layers, k, total stride) of a brain `sliding` can run."""
    layers = brain.layers[1:]
    convs = [l for l in layers if isinstance(l, tf.keras.layers.Conv2D)]
    rest = layers[len(convs):]
    if (not rest or not isinstance(rest[0], tf.keras.layers.Flatten)
            or not all(isinstance(l, tf.keras.layers.Dense) for l in rest[1:])):
        raise InputError(f"brain {brain.name} is not convolutions -> Flatten -> Dense layers; "
                         "evaluate it tile by tile (models.ednn)")
    stride = 1
    for conv in convs:
        if conv.padding != "valid" or conv.strides[0] != conv.strides[1] \
                or conv.dilation_rate != (1, 1):
            raise InputError(f"{conv.name} of brain {brain.name} is not a valid-padded, "
                             "undilated convolution with equal strides; evaluate tile by tile")
        stride *= conv.strides[0]
    if focus % stride:
        raise InputError(f"the brain's total stride {stride} does not divide the focus {focus}")
    k = rest[0].input_shape[1]
    return convs, rest[1:], k, stride


def sliding(model):
    """A model equal to the EDNN `model` (batch, H, W, C) -> (batch, outputs) that evaluates
    every tile in one convolutional pass; its layer ednn.CONTRIBUTIONS holds the tile grid."""
    tiles = model.get_layer("tiles")
    f, c = tiles.focus, tiles.context
    brain = ednn.brain_of(model)
    convs, denses, k, stride = _plan(brain, f)
    inputs = tf.keras.Input((None, None, model.input_shape[-1]), name="configuration")
    x = ContextPadding(c, tiles.padding, name="context")(inputs) if c else inputs
    for conv in convs:
        x = conv(x)
    for i, dense in enumerate(denses):
        kernel, *bias = dense.get_weights()
        size, step = (k, f // stride) if i == 0 else (1, 1)
        layer = tf.keras.layers.Conv2D(dense.units, size, strides=step, use_bias=dense.use_bias,
                                       activation=dense.activation, name=f"{dense.name}_slide",
                                       dtype=dense.dtype_policy)
        x = layer(x)
        layer.set_weights([kernel.reshape(size, size, -1, dense.units), *bias])
    # the tile grid and its sum keep the brain's output precision (float32 from conv_brain)
    grid = tf.keras.layers.Activation("linear", name=ednn.CONTRIBUTIONS, dtype=x.dtype.name)(x)
    return tf.keras.Model(inputs, ednn.SumTiles(name="extensive_sum", dtype=x.dtype.name)(grid),
                          name=f"{model.name}_sliding")

