"""Horovod job for tests: distributed EDNN inference on a 64x64 lattice and on a graphene sheet
built slab by slab; each rank saves the distributed and the single-process results to
OUT/rank{r}.npz and OUT/sheet{r}.npz."""

import dataclasses
import sys

import numpy as np
import tensorflow as tf

from tfphys.models import ednn
from tfphys.physics.atoms import images, sheets
from tfphys.training import sheet_training
from tfphys.training.distribute import Distribution
from tfphys.training.inference import distributed_predict, sheet_energy

dist = Distribution(horovod=True)
tf.keras.utils.set_random_seed(3)  # same weights on every rank
model = ednn.ednn(ednn.mlp_brain(2, 1), 2, 1)
x = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 64, 64, 1)).astype(np.float32)
np.savez(f"{sys.argv[1]}/rank{dist.rank}.npz",
         distributed=distributed_predict(model, x, dist, max_tiles=200),
         single=ednn.predict_tiled(model, x, max_tiles=200),
         direct=model(x).numpy())

# a graphene sheet 4x the thesis's cell from an (untrained) sheet EDNN, built in slabs (no
# reference: its zeroed head would make the untrained energy a constant)
preset = sheet_training.preset_with("ednn_hexagonal_quick", reference=False)
tf.keras.utils.set_random_seed(4)
sheet_model = sheet_training.build(preset, (256, 256), -600.0, 20.0)
facts = {"settings": dataclasses.asdict(preset), "spacing": 0.049, "shape": [256, 256]}
sheet = sheets.hexagonal("graphene", (10, 6))
shape = sheet_training.image_shape(facts, sheet)
np.savez(f"{sys.argv[1]}/sheet{dist.rank}.npz",
         distributed=sheet_energy(sheet_model, facts, sheet, dist, slab_rows=72),
         single=sheet_energy(sheet_model, facts, sheet, slab_rows=72),
         direct=sheet_model(images.image(sheet, shape)[None, ..., None]).numpy()[0, 0],
         shape=shape)
