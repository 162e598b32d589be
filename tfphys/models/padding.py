"""Periodic (torus) padding for convolutions on periodic lattices.

Zero padding hides the bonds that wrap around a periodic lattice from a convolution; padding
with the opposite edge shows them, so a convolution stack stays translation-equivariant on the
torus. One function for the padding itself (used by the EDNN tiles and the CNN layer below).
"""

import tensorflow as tf

from tfphys.errors import InputError


def periodic_pad(x, before, after):
    """Pad the height and width of `x` (batch, H, W, C) with `before` / `after` rows and
    columns copied from the opposite edges (needs before, after <= H, W)."""
    if before:
        x = tf.concat([x[:, -before:], x], axis=1)
        x = tf.concat([x[:, :, -before:], x], axis=2)
    if after:
        x = tf.concat([x, x[:, before:before + after]], axis=1)
        x = tf.concat([x, x[:, :, before:before + after]], axis=2)
    return x


@tf.keras.utils.register_keras_serializable("tfphys")
class PeriodicPadding2D(tf.keras.layers.Layer):
    """Pads like a 'same' convolution of `kernel` and `stride` would, but periodically: a
    following Conv2D(kernel, stride, padding='valid') gives the 'same' output size. At stride 1
    the input may have any (unknown) size, as fully convolutional generators need."""

    def __init__(self, kernel, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel, self.stride = int(kernel), int(stride)

    def amounts(self, size):
        if self.stride == 1:  # 'same' at stride 1 pads kernel - 1 whatever the size
            return (self.kernel - 1) // 2, self.kernel - 1 - (self.kernel - 1) // 2
        out = -(-size // self.stride)
        total = max((out - 1) * self.stride + self.kernel - size, 0)
        return total // 2, total - total // 2

    def call(self, x):
        height, width = x.shape[1], x.shape[2]
        if self.stride != 1 and (height is None or height != width):
            raise InputError(f"periodic padding with stride {self.stride} needs a known square "
                             f"input, got {x.shape[1:3]}")
        before, after = self.amounts(height)
        if height is not None and max(before, after) > height:
            raise InputError(f"periodic padding of {max(before, after)} exceeds the input "
                             f"size {height}; use a smaller kernel or a larger input")
        return periodic_pad(x, before, after)

    def get_config(self):
        return {**super().get_config(), "kernel": self.kernel, "stride": self.stride}


def _fold(y, size, axis):
    """Wrap `y` along `axis` onto `size` entries: entry i collects every i + j * size."""
    length = tf.shape(y)[axis]
    repeats = -(-length // size)
    pad = [[0, 0]] * 4
    pad[axis] = [0, repeats * size - length]
    y = tf.pad(y, pad)
    shape = tf.shape(y)
    split = tf.concat([shape[:axis], [repeats, size], shape[axis + 1:]], axis=0)
    return tf.reduce_sum(tf.reshape(y, split), axis=axis)


@tf.keras.utils.register_keras_serializable("tfphys")
class PeriodicConv2DTranspose(tf.keras.layers.Layer):
    """A transposed convolution on the torus: an n x n input gives n*stride x n*stride, and
    the kernel's overhang past one edge lands on the opposite edge (Keras's 'same' transposed
    convolution drops it), so the layer is translation-equivariant (a shift by one input site
    shifts the output by `stride`) and sees the bonds across the periodic boundary."""

    def __init__(self, filters, kernel, stride=1, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.stride = int(filters), int(kernel), int(stride)
        self.activation = tf.keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, self.filters,
                                  int(input_shape[-1])), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        shape = tf.shape(x)
        k, s = self.kernel_size, self.stride
        full = [shape[0], (shape[1] - 1) * s + k, (shape[2] - 1) * s + k, self.filters]
        y = tf.nn.conv2d_transpose(x, self.kernel, full, s, padding="VALID")
        y = _fold(_fold(y, shape[1] * s, 1), shape[2] * s, 2)
        crop = (k - s) // 2  # where Keras's 'same' output starts: same alignment, wrapped
        y = tf.roll(y, [-crop, -crop], axis=[1, 2])
        return self.activation(y + self.bias)

    def compute_output_shape(self, input_shape):
        side = lambda n: None if n is None else n * self.stride  # noqa: E731
        return (input_shape[0], side(input_shape[1]), side(input_shape[2]), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel": self.kernel_size,
                "stride": self.stride,
                "activation": tf.keras.activations.serialize(self.activation)}


@tf.keras.utils.register_keras_serializable("tfphys")
class PeriodicDilatedConv2D(tf.keras.layers.Layer):
    """A 'same' convolution with taps `dilation` sites apart on a torus of any size, even one
    smaller than the dilation (a tap then wraps around more than once, which padding cannot
    do): the input rolled to each of the kernel x kernel taps, then one 1x1 convolution."""

    def __init__(self, filters, dilation, kernel=3, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.dilation, self.kernel_size = int(filters), int(dilation), int(kernel)
        self.activation = tf.keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, int(input_shape[-1]),
                                  self.filters), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        k, d = self.kernel_size, self.dilation
        # Conv2D's cross-correlation reads x[y + (i - k // 2) d]: roll by (k // 2 - i) d
        taps = [tf.roll(x, [(k // 2 - i) * d, (k // 2 - j) * d], axis=[1, 2])
                for i in range(k) for j in range(k)]
        weights = tf.reshape(self.kernel, [1, 1, -1, self.filters])
        y = tf.nn.conv2d(tf.concat(taps, axis=-1), weights, 1, padding="VALID")
        return self.activation(y + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "dilation": self.dilation,
                "kernel": self.kernel_size,
                "activation": tf.keras.activations.serialize(self.activation)}
