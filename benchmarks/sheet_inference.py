"""Million-atom sheets: EDNN energy of one graphene sheet of --atoms atoms, the image built
slab by slab (`training.inference.sheet_energy`), on one process or split over Horovod ranks
(same answer), against the thesis's 35.2 M atoms in 24.7 min on 448 cores (53 atoms/s/core);
and the O(N) check: the same at 1/16 and 1/4 of the atoms, time per atom within 10 %.

The model is --model (a bin/train_sheets export) or an untrained `ednn_hexagonal_quick`
(weights do not change the time).

Run: .venv/bin/python benchmarks/sheet_inference.py [--atoms 1000000]
     .venv/bin/horovodrun -np 2 -H localhost:2 --gloo .venv/bin/python \\
         benchmarks/sheet_inference.py --horovod
"""

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf
from absl import flags

import common

from tfphys import cli
from tfphys.physics.atoms import sheets
from tfphys.training import export, inference, sheet_training
from tfphys.training.distribute import Distribution

flags.DEFINE_integer("atoms", 1000000, "Atoms of the largest sheet.", lower_bound=64)
flags.DEFINE_string("model", None, "Exported sheet EDNN (default: untrained ednn_hexagonal_quick).")
flags.DEFINE_bool("horovod", False, "Run as one Horovod rank (start with horovodrun -np K).")
FLAGS = flags.FLAGS
THESIS_ATOMS_PER_SECOND_PER_CORE = 35.2e6 / (24.7 * 60) / 448


def _sheet(atoms):
    """A near-square graphene sheet of about `atoms` atoms (4-atom rectangular cells)."""
    ratio = np.sqrt(3)  # the rectangular cell is a x a sqrt(3)
    n2 = max(1, int(round(np.sqrt(atoms / 4 / ratio))))
    return sheets.hexagonal("graphene", (max(1, int(round(atoms / 4 / n2))), n2))


def main(argv):
    del argv
    dist = Distribution(horovod=FLAGS.horovod)
    if dist.is_chief:
        common.header()
    if FLAGS.model:
        model, facts = export.load(FLAGS.model), export.metadata(FLAGS.model)
    else:
        preset = sheet_training.PRESETS["ednn_hexagonal_quick"]
        tf.keras.utils.set_random_seed(0)  # the same weights on every rank and every run
        model = sheet_training.build(preset, (256, 256), -600.0, 20.0)
        facts = {"preset": preset.name, "settings": dataclasses.asdict(preset),
                 "spacing": 0.049, "shape": [256, 256]}
    cores = os.cpu_count() if dist.size == 1 else dist.size * max(1, os.cpu_count() // dist.size)
    inference.sheet_energy(model, facts, _sheet(256), dist)  # trace the model outside the timing
    per_atom = []
    for share in (16, 4, 1):
        sheet = _sheet(FLAGS.atoms // share)
        start = time.perf_counter()
        energy = inference.sheet_energy(model, facts, sheet, dist)
        seconds = time.perf_counter() - start
        per_atom.append(seconds / len(sheet))
        rate = len(sheet) / seconds / cores
        if dist.is_chief:
            shape = sheet_training.image_shape(facts, sheet)
            print(f"{len(sheet)} atoms ({sheet.cell.lengths()[0]:.0f} x "
                  f"{sheet.cell.lengths()[1]:.0f} A, image {shape[0]}x{shape[1]}) on "
                  f"{dist.size} process(es), {cores} cores: {seconds:.1f} s, {rate:.0f} atoms/s/"
                  f"core ({rate / THESIS_ATOMS_PER_SECOND_PER_CORE:.0f}x the thesis's 53); "
                  f"energy {energy:.3f} eV", flush=True)
    if dist.is_chief:
        spread = max(per_atom) / min(per_atom) - 1
        print(f"time per atom over a 16x range of sizes: spread {100 * spread:.0f} % "
              f"(O(N) target: within 10 %)")


if __name__ == "__main__":
    cli.run(main)
