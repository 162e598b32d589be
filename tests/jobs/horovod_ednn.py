"""Horovod job for tests: the tfphys training entry point on each rank (Distribution(horovod=True)),
then every rank saves its final weights to OUT/rank{r}.npz; the chief writes checkpoints."""

import sys

import numpy as np
import tensorflow as tf

from tfphys.models import ednn
from tfphys.physics import ising
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train

out = sys.argv[1]
dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(10 + dist.rank)  # ranks start apart; the broadcast must unify them
s = np.random.default_rng(0).choice([-1.0, 1.0], size=(256, 8, 8)).astype(np.float32)
data = tf.data.Dataset.from_tensor_slices((s[..., None], ising.energy(s).astype(np.float32))).batch(32)
model, history = train(lambda: ednn.ednn(ednn.mlp_brain(1, 1), 1, 1), data,
                       TrainConfig(epochs=2, batch_size=32, learning_rate=1e-3, run_dir=f"{out}/run",
                                   verbose=0), dist)
np.savez(f"{out}/rank{dist.rank}.npz", loss=history.history["loss"], *model.get_weights())
