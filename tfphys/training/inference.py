"""Distributed EDNN inference: every Horovod rank evaluates its share of the row slabs of a
large configuration and the partial sums are allreduced (thesis: 35 M atoms on 448 cores);
`sheet_energy` does it for an atomic sheet whose image is too large to hold."""

import numpy as np

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.physics.atoms import images
from tfphys.training import sheet_training


def distributed_predict(model, x, distribution, max_tiles=1 << 16):
    """`ednn.predict_tiled` split over the ranks of `distribution` (a Horovod Distribution);
    every rank returns the full sum. Without Horovod (or None) the single-process result."""
    if distribution is None or distribution.hvd is None:
        return ednn.predict_tiled(model, x, max_tiles)
    n_slabs, _ = ednn.slab_count(model, np.asarray(x), max_tiles)
    mine = range(distribution.rank, n_slabs, distribution.size)
    part = ednn.predict_tiled(model, x, max_tiles, slabs=mine)
    return distribution.hvd.allreduce(part, op=distribution.hvd.Sum, name="ednn_slabs").numpy()


def sheet_energy(model, facts, atoms, distribution=None, slab_rows=1024, max_tiles=4096):
    """Cohesive energy (eV) of one sheet of any size from an exported sheet EDNN (`facts`: its
    tfphys.json) in bounded memory: the fine image is built `slab_rows` rows at a time and
    averaged as the model's first layer does, so memory holds the averaged image and one fine
    slab (a 1 M-atom graphene sheet: 260 MB, not 4 GB). Under Horovod every rank builds a
    contiguous share of the slabs (allgathered) and evaluates its share of the tiles."""
    if facts["settings"]["model"] != "ednn":
        raise InputError(f"{facts['preset']} is a CNN of fixed input size; only an EDNN "
                         "evaluates sheets of any size")
    shape = sheet_training.image_shape(facts, atoms)
    d, moments = facts["settings"]["downsample"], facts["settings"].get("moments", 1)
    step = max(d, slab_rows // d * d)
    starts = list(range(0, shape[0], step))
    rank, size = (0, 1) if distribution is None or distribution.hvd is None else (
        distribution.rank, distribution.size)
    rows, reach = images.row_positions(atoms, shape)
    order = np.argsort(rows)
    parts = [np.zeros((0, shape[1] // d, moments), np.float32)]
    for start in starts[rank * len(starts) // size:(rank + 1) * len(starts) // size]:
        stop = min(start + step, shape[0])
        near = np.concatenate([order[np.searchsorted(rows[order], lo):
                                     np.searchsorted(rows[order], hi)]  # the atoms in reach
                               for lo, hi in _row_ranges(start - reach, stop + reach, shape[0])])
        fine = images.image(atoms[near], shape, rows=(start, stop))
        parts.append(sheet_training.pooled(fine, d, moments).astype(np.float32))
    pooled = np.concatenate(parts)
    if size > 1:
        pooled = distribution.hvd.allgather(pooled, name="sheet_image").numpy()  # rank order
    total = distributed_predict(model.get_layer("sheet_ednn"), pooled[None],
                                distribution, max_tiles)
    return float(total[0, 0] * model.get_layer("energy_scale").scale)


def _row_ranges(lo, hi, n):
    """[lo, hi) as ranges inside [0, n), wrapped around the periodic seam."""
    if hi - lo >= n:
        return [(0, n)]
    return [(lo % n, hi % n)] if lo % n < hi % n else [(lo % n, n), (0, hi % n)]
