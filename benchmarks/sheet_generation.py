"""Sheet RUGAN generation speed: porous graphene sheets per second from a sheet generator at its
training lattice and at 4x the area (encoding plus the ase.Atoms structure), against producing
one labelled sheet of the same cell with the electronic-structure labeller (GFN1-xTB through
tblite, one core), in the same run.

The generator is --model (a bin/train_rugan --preset rugan_hexagonal_quick export) or an
untrained thesis-sized `rugan_hexagonal` generator (63 noise channels, 64 filters; weights do
not change the time) on our porous cell (18 x 20 sites).

With --best_of K (and --energy_model, the sheet EDNN that judges), each sheet is the best of K
by that EDNN, as bin/generate --best_of makes it: the time includes the K candidates and their
EDNN energies.

Run: .venv/bin/python benchmarks/sheet_generation.py [--model runs/porous/gen] [--count 64]
     [--best_of 8 --energy_model runs/porous/ednn]
"""

import time

import numpy as np
import tensorflow as tf
from absl import flags
from threadpoolctl import threadpool_limits

import common

from tfphys import cli
from tfphys.data import sheets as sheet_data
from tfphys.errors import InputError
from tfphys.physics.atoms import labeller, zigzag
from tfphys.training import export, sheet_training
from tfphys.training.adversarial import sheet_rugan_training as training

flags.DEFINE_string("model", None, "Exported sheet generator (default: untrained rugan_hexagonal).")
flags.DEFINE_integer("count", 64, "Sheets generated per size.", lower_bound=1)
flags.DEFINE_integer("labelled", 2, "Sheets labelled with GFN1-xTB for the comparison.",
                     lower_bound=1)
flags.DEFINE_integer("best_of", 1, "Each sheet the best of this many by --energy_model.",
                     lower_bound=1)
flags.DEFINE_string("energy_model", None, "Exported sheet EDNN that judges --best_of.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    common.header()
    if FLAGS.model:
        generator, facts = export.load(FLAGS.model), export.metadata(FLAGS.model)
        shape, standard = tuple(facts["shape"]), (facts["label_mean"], facts["label_scale"])
        quantity = facts.get("quantity", "per_area")
    else:
        tf.keras.utils.set_random_seed(0)
        generator = training.build(training.PRESETS["rugan_hexagonal"]).generator
        shape, standard, quantity = (18, 20), (0.0, 1.0), "per_area"
    judge = None
    if FLAGS.best_of > 1:
        if not FLAGS.energy_model:
            raise InputError("--best_of picks sheets by their EDNN energy: give --energy_model")
        judge = training.judged_by(export.load(FLAGS.energy_model),
                                   sheet_training.sheet_facts(FLAGS.energy_model), quantity)
    for rows, columns in (shape, (2 * shape[0], 2 * shape[1])):
        requested = np.zeros(FLAGS.count) + standard[0]
        best = dict(best_of=FLAGS.best_of, judge=judge)
        training.generate(generator, requested[:2], (rows, columns), standard, **best)  # trace
        start = time.perf_counter()
        made = [zigzag.decode(e) for e in training.generate(generator, requested,
                                                              (rows, columns), standard, **best)]
        seconds = (time.perf_counter() - start) / FLAGS.count
        kept = f", best of {FLAGS.best_of} by the EDNN" if judge else ""
        print(f"generator {rows}x{columns}{kept} ({np.mean([len(a) for a in made]):.0f} atoms): "
              f"{1000 * seconds:.1f} ms per sheet, {1 / seconds:.1f} sheets/s", flush=True)
        if (rows, columns) == shape:
            per_generated = seconds
    structures = sheet_data.structures("porous", FLAGS.labelled, np.random.default_rng(0), 0)
    start = time.perf_counter()
    with threadpool_limits(1):
        for atoms in structures:
            labeller.label(atoms, "gfn1")
    per_labelled = (time.perf_counter() - start) / FLAGS.labelled
    print(f"GFN1-xTB on {FLAGS.labelled} porous cells ({np.mean([len(a) for a in structures]):.0f}"
          f" atoms), one core: {per_labelled:.2f} s per sheet; the generator is "
          f"{per_labelled / per_generated:.0f}x faster per sheet at the training lattice")


if __name__ == "__main__":
    cli.run(main)
