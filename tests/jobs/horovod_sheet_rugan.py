"""Horovod job for tests: the sheet RUGAN trainer (`train_sheet_rugan`, what bin/train_rugan
--horovod runs) on each rank over the porous dataset DATA, whose train split has an odd size.
Each rank builds its networks from its own seed, so only the broadcast can make them agree;
every rank saves its trainable weights, the names of its non-trainable ones (batch
normalization's moving statistics, each rank's own, and dropout call counters) and both
optimizers' step counts to OUT/rank{r}.npz."""

import sys

import numpy as np

from tfphys.training.adversarial import sheet_rugan_training as training

data, out = sys.argv[1:3]
preset = training.preset_with("rugan_hexagonal_quick", epochs=2, batch_size=2, filters=4,
                               critic_steps=2)
result = training.train_sheet_rugan(preset, data, horovod=True, verbose=0, seed=3)
model = result["model"]
np.savez(f"{out}/rank{result['rank']}.npz", examples=result["examples"],
         steps=[int(model.critic_optimizer.iterations), int(model.generator_optimizer.iterations)],
         local=[w.name for w in model.non_trainable_weights],
         *[w.numpy() for w in model.trainable_weights])
