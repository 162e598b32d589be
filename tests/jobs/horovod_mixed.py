"""Horovod job for tests: the counting EDNN trained in mixed bfloat16 through the tfphys training
entry point on each rank (45 random 24x40 images: 22 per rank, a partial last batch of 4); every
rank saves the float32 twin's weights to OUT/rank{r}.npz."""

import sys

import numpy as np
import tensorflow as tf

from tfphys.training import counting_training
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train

out = sys.argv[1]
dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(10 + dist.rank)  # ranks start apart; the broadcast must unify them
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (45, 24, 40, 1)).astype(np.float32)
counts = rng.integers(0, 3, (45, 2)).astype(np.float32)
preset = counting_training.preset_with("counting_quick", precision="mixed_bfloat16")
model, history = train(lambda: counting_training.build(preset, 1, 2),
                       tf.data.Dataset.from_tensor_slices((images, counts)),
                       TrainConfig.of(preset, epochs=2, batch_size=4, verbose=0), dist)
np.savez(f"{out}/rank{dist.rank}.npz", loss=history.history["loss"],
         dtypes=[layer.compute_dtype for layer in model.layers], *model.get_weights())
