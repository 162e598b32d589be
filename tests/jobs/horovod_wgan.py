"""Horovod job for tests: a two-optimizer critic/generator pair (tfphys.testing.ToyWGAN) through
the tfphys training entry point on each rank, with an odd example count; every rank saves its
final generator and critic weights, the generator's weight average (momentum 0.9) and both
optimizers' step counts to OUT/rank{r}.npz."""

import sys

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train

out = sys.argv[1]
dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(20 + dist.rank)  # ranks start apart; the broadcast must unify them
model, history = train(lambda: testing.ToyWGAN(average=0.9), testing.toy_wgan_data(231),
                       TrainConfig(epochs=2, batch_size=32, learning_rate=3e-3, verbose=0), dist)
with model.averaged() as generator:
    averaged = np.concatenate([w.numpy().ravel() for w in generator.trainable_weights])
np.savez(f"{out}/rank{dist.rank}.npz", critic_loss=history.history["critic_loss"],
         averaged=averaged, own=np.concatenate([w.numpy().ravel() for w in
                                                 model.generator.trainable_weights]),
         steps=[int(model.critic_optimizer.iterations), int(model.generator_optimizer.iterations)],
         *model.get_weights())
