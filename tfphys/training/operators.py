"""Trained networks as physics operators: batched NumPy callables for Monte Carlo.

`operator(model, L)` wraps a Keras model (CNN or EDNN, regression or energy classes) so it maps
configurations (batch, L, L) of +-1 spins to one number each: lattices are upscaled when the
network expects a larger fixed input, and class logits become the class's Ising energy level.
"""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.physics import ising


def operator(model, L):
    """A function configs (batch, L, L) -> values (batch,) evaluating `model`."""
    size = model.input_shape[1]
    if size is not None and size != L and size % L:
        raise InputError(f"the model takes {size}x{size} inputs; {L}x{L} lattices cannot be "
                         "upscaled to that losslessly")
    outputs = model.output_shape[-1]
    levels = ising.energy_levels(L) if outputs > 1 else None
    if levels is not None and len(levels) != outputs:
        raise InputError(f"the model has {outputs} classes but {L}x{L} Ising has {len(levels)} levels")
    compiled = tf.function(model, reduce_retracing=True)

    def evaluate(configs):
        x = np.asarray(configs, np.float32)
        if size is not None and size != L:
            x = ising.upscale(x, size).astype(np.float32)
        out = compiled(tf.constant(x[..., None])).numpy()
        return levels[out.argmax(axis=-1)] if levels is not None else out[:, 0]

    return evaluate
