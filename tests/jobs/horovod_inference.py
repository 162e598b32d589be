"""Horovod job for tests: distributed EDNN inference on a 64x64 lattice; each rank saves the
distributed and the single-process sums to OUT/rank{r}.npz."""

import sys

import numpy as np
import tensorflow as tf

from tfphys.models import ednn
from tfphys.training.distribute import Distribution
from tfphys.training.inference import distributed_predict

dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(3)  # same weights on every rank
model = ednn.ednn(ednn.mlp_brain(2, 1), 2, 1)
x = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 64, 64, 1)).astype(np.float32)
np.savez(f"{sys.argv[1]}/rank{dist.rank}.npz",
         distributed=distributed_predict(model, x, dist, max_tiles=200),
         single=ednn.predict_tiled(model, x, max_tiles=200),
         direct=model(x).numpy())
