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
