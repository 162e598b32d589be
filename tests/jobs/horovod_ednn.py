"""Horovod job for tests: the tfphys training entry point on each rank (Distribution(horovod=True))
with awkward sizes -- 231 training examples in batches of 32 (an odd example count, a partial
last batch) and 77 validation examples -- then every rank saves its final weights and step
count to OUT/rank{r}.npz; the chief writes checkpoints."""

import sys

import numpy as np
import tensorflow as tf

from tfphys.models import ednn
from tfphys.physics.spins import ising
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train


def examples(n, seed):
    s = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, 8, 8)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((s[..., None], ising.energy(s).astype(np.float32)))


out = sys.argv[1]
dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(10 + dist.rank)  # ranks start apart; the broadcast must unify them
model, history = train(lambda: ednn.ednn(ednn.mlp_brain(1, 1), 1, 1), examples(231, 0),
                       TrainConfig(epochs=3, batch_size=32, learning_rate=1e-3, run_dir=f"{out}/run",
                                   verbose=0), dist, validation=examples(77, 1))
np.savez(f"{out}/rank{dist.rank}.npz", loss=history.history["loss"],
         val_loss=history.history["val_loss"], steps=int(model.optimizer.iterations),
         *model.get_weights())
