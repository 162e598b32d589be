"""Trained networks as physics operators: batched NumPy callables for Monte Carlo.

`operator(model, L)` wraps a Keras model (CNN or EDNN, regression or energy classes) so it maps
configurations (batch, L, L) of +-1 spins to one number each: lattices are upscaled when the
network expects a larger fixed input, and class logits become the class's Ising energy level.
`window_energy(model)` tabulates a focus-1 EDNN over its tile patterns for table-speed Metropolis;
`metropolis(model, L)` picks the engine a learned operator runs in.
"""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.physics import ising, operator_mc, window


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


def window_energy(model):
    """An EDNN with focus 1 and periodic context c on +-1 spins, tabulated over all
    2^((2c+1)^2) tile patterns: a `tfphys.physics.window.WindowEnergy` giving the same energies
    for Metropolis at table speed. Raises InputError for other networks."""
    try:
        tiles = model.get_layer("tiles")
    except ValueError:
        raise InputError(f"{model.name} is not an EDNN; only EDNNs can be tabulated") from None
    if tiles.focus != 1 or tiles.padding != "periodic" or model.input_shape[-1] != 1:
        raise InputError("only one-channel EDNNs with focus 1 and periodic padding can be tabulated"
                         f" (got f={tiles.focus}, {tiles.padding} padding)")
    if (2 * tiles.context + 1) ** 2 > window.MAX_BITS:
        raise InputError(f"context {tiles.context} has too many tile patterns to tabulate")
    x = window.patterns(tiles.context)[..., None].astype(np.float32)
    values = ednn.brain_of(model).predict(x, batch_size=1 << 16, verbose=0)
    if values.shape[-1] != 1:
        raise InputError("only single-output EDNNs (an energy) can be tabulated")
    return window.WindowEnergy(values[:, 0], tiles.context)


def metropolis(model, L, n_replicas=32, seed=None, magnetization_model=None):
    """A Monte Carlo engine for `tfphys.physics.thermo.scan_engine` with `model` as the energy
    operator, and a line saying which: a focus-1 EDNN (without a magnetization model) runs
    tabulated, any other network is called on every proposal batch."""
    if magnetization_model is None:
        try:
            table = window_energy(model)
        except InputError:
            pass
        else:
            return (window.WindowMetropolis(table, L, n_replicas, seed),
                    f"EDNN tabulated over {table.table.size} tile patterns")
    magnet = operator(magnetization_model, L) if magnetization_model is not None else None
    return (operator_mc.OperatorMetropolis(operator(model, L), L, n_replicas, magnet, seed),
            "network called on every proposal batch")
