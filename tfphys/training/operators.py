"""Trained networks as physics operators: batched NumPy callables for Monte Carlo.

`operator(model, L)` wraps a Keras model (CNN or EDNN, regression or energy classes) so it maps
configurations (batch, L, L) of +-1 spins to one number each: lattices are upscaled when the
network expects a larger fixed input, and class logits become the class's Ising energy level.
`window_energy(model)` tabulates a focus-1 EDNN over its tile patterns for table-speed Metropolis;
`metropolis(model, L)` picks the engine a learned operator runs in; `SheetEnergy` is a sheet
EDNN as the energy of Monte Carlo on atomic positions, re-evaluating only the tiles a move
touches.
"""

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.physics.spins import ising, operator_mc, window
from tfphys.physics.atoms import images
from tfphys.training import sheet_training


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
    2^((2c+1)^2) tile patterns: a `tfphys.physics.spins.window.WindowEnergy` giving the same
    energies for Metropolis at table speed. Raises InputError for other networks."""
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
    """A Monte Carlo engine for `tfphys.physics.spins.thermo.scan_engine` with `model` as the
    energy operator, and a line saying which: a focus-1 EDNN (without a magnetization model) runs
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


class SheetEnergy:
    """An exported sheet EDNN (`facts`: its tfphys.json) as the energy of Monte Carlo on a
    sheet's atomic positions (`physics.atoms.metropolis`): moving one atom changes the image
    only within images.CUTOFF gammas of its old and new places, so only the tiles whose context
    sees those (averaged) pixels go through the brain again; equal to a full evaluation."""

    def __init__(self, model, facts, atoms):
        body = model.get_layer("sheet_ednn")
        tiles = body.get_layer("tiles")
        self.f, self.c, self.d = tiles.focus, tiles.context, facts["settings"]["downsample"]
        self.moments = facts["settings"].get("moments", 1)
        self.brain = tf.function(ednn.brain_of(body), reduce_retracing=True)
        self.scale = float(model.get_layer("energy_scale").scale)
        self.atoms = atoms.copy()
        self.shape = sheet_training.image_shape(facts, atoms)
        size = self.f + 2 * self.c
        self.windows = [(np.arange(size)[None] + np.arange(0, n // self.d, self.f)[:, None]
                         - self.c) % (n // self.d) for n in self.shape]  # (tiles, size) per axis
        self._trial = None

    def _pool(self, fine):
        return sheet_training.pooled(fine, self.d, self.moments)

    def _tiles(self, pooled, rows, cols):
        """Brain outputs for the tiles at the given tile rows x cols."""
        patches = pooled[self.windows[0][rows][:, None, :, None],
                         self.windows[1][cols][None, :, None, :]]
        flat = patches.reshape(-1, *patches.shape[2:]).astype(np.float32)
        return self.brain(tf.constant(flat)).numpy()[:, 0].reshape(len(rows), len(cols))

    def reset(self, positions):
        self.atoms.positions = positions
        self.fine = images.image(self.atoms, self.shape)
        self.pooled = self._pool(self.fine)
        self.grid = self._tiles(self.pooled, np.arange(len(self.windows[0])),
                                np.arange(len(self.windows[1])))
        return self.scale * float(self.grid.sum())

    def trial(self, i, position):
        moved = self.atoms[[i]].copy()
        moved.positions[0] = position
        delta = images.image(moved, self.shape) - images.image(self.atoms[[i]], self.shape)
        fine = self.fine + delta
        pooled = self._pool(fine)  # moments are not additive: pooled afresh
        changed = sheet_training.pooled(delta, self.d)[..., 0] != 0
        rows = np.where(np.isin(self.windows[0], np.where(changed.any(axis=1))[0]).any(1))[0]
        cols = np.where(np.isin(self.windows[1], np.where(changed.any(axis=0))[0]).any(1))[0]
        grid = self.grid.copy()
        if len(rows) and len(cols):
            grid[np.ix_(rows, cols)] = self._tiles(pooled, rows, cols)
        self._trial = (i, position, fine, pooled, grid)
        return self.scale * float(grid.sum())

    def commit(self):
        i, position, self.fine, self.pooled, self.grid = self._trial
        self.atoms.positions[i] = position
