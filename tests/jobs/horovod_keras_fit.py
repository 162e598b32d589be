"""A Horovod Keras job for tests: each rank starts from its own random weights and data shard,
trains with DistributedOptimizer + initial broadcast and saves its weights to OUT/rank{r}.npz."""

import sys

import horovod.tensorflow.keras as hvd
import numpy as np
import tensorflow as tf

hvd.init()
out = sys.argv[1]
rank = hvd.rank()
tf.keras.utils.set_random_seed(100 + rank)  # different initial weights per rank on purpose

rng = np.random.default_rng(rank)
x = rng.normal(size=(64, 5)).astype("float32")
y = (x @ np.arange(1.0, 6.0).reshape(5, 1) + 0.1).astype("float32")

inputs = tf.keras.Input(shape=(5,))
model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(tf.keras.layers.Dense(8, "tanh")(inputs)))
initial = model.get_weights()
model.compile(hvd.DistributedOptimizer(tf.keras.optimizers.SGD(0.02 * hvd.size())), "mse")
history = model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0,
                    callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)])

arrays = {f"initial_{i}": w for i, w in enumerate(initial)}
arrays.update({f"final_{i}": w for i, w in enumerate(model.get_weights())})
np.savez(f"{out}/rank{rank}.npz", loss=np.array(history.history["loss"]), **arrays)
