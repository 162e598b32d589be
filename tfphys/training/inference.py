"""Distributed EDNN inference: every Horovod rank evaluates its share of the row slabs of a
large configuration and the partial sums are allreduced (thesis: 35 M atoms on 448 cores)."""

import numpy as np

from tfphys.models import ednn


def distributed_predict(model, x, distribution, max_tiles=1 << 16):
    """`ednn.predict_tiled` split over the ranks of `distribution` (a Horovod Distribution);
    every rank returns the full sum. Without Horovod it is the single-process result."""
    if distribution.hvd is None:
        return ednn.predict_tiled(model, x, max_tiles)
    n_slabs, _ = ednn.slab_count(model, np.asarray(x), max_tiles)
    mine = range(distribution.rank, n_slabs, distribution.size)
    part = ednn.predict_tiled(model, x, max_tiles, slabs=mine)
    return distribution.hvd.allreduce(part, op=distribution.hvd.Sum, name="ednn_slabs").numpy()
