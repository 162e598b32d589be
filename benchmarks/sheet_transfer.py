"""Transfer to larger cells (thesis Fig. 9): a sheet EDNN trained on the thesis's 60-atom cells
predicts hexagonal sheets 4x and 16x larger (2 x 2 and 4 x 4 cells, defects and displacements
drawn as in the training set, scaled with the area; `--displacement 0` for a crystalline
set), against the labeller's energy of those cells computed directly; error per area in
meV / Angstrom^2 next to the test-split error. Also the labeller's own departure from
extensivity at each size: the energy of the pristine larger cell minus the pristine training
cell's times the area ratio, per area. An EDNN is extensive by construction, so that much of
its transfer error is the reference's (tblite samples only the Gamma point, and graphene's
states near its Dirac points fold onto it differently in each cell).

Run: .venv/bin/python benchmarks/sheet_transfer.py --model runs/hexagonal/model_ednn \\
         [--count 4 --count16 1]
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.physics.atoms import images, labeller, sheets
from tfphys.training import export, inference

flags.DEFINE_string("model", None, "Exported sheet EDNN (bin/train_sheets --export).")
flags.DEFINE_integer("count", 4, "Sheets 4x the training cell.", lower_bound=0)
flags.DEFINE_integer("count16", 1, "Sheets 16x the training cell (labelling takes minutes).",
                     lower_bound=0)
flags.DEFINE_integer("seed", 7, "Seed of the sheets.")
flags.DEFINE_float("displacement", 0.1, "Largest random displacement (Angstrom), as the training "
                   "set's bin/generate_sheets --displacement: 0 for a crystalline set.",
                   lower_bound=0)
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def finite_size(method, scale):
    """{material: (E(pristine scale x scale cell) - scale^2 E(pristine cell)) / area, meV/A^2}."""
    departure = {}
    for material in sheets.LATTICE:
        small, large = (sheets.hexagonal(material, (5 * s, 3 * s)) for s in (1, scale))
        energy = [labeller.label(sheet, method)[0] for sheet in (small, large)]
        departure[material] = 1000 * (energy[1] - scale ** 2 * energy[0]) / images.area(large)
    return departure


def main(argv):
    del argv
    common.header()
    model, facts = export.load(FLAGS.model), export.metadata(FLAGS.model)
    method = labeller.key(facts["labeller"]["method"])
    rng = np.random.default_rng(FLAGS.seed)
    for scale, count in ((2, FLAGS.count), (4, FLAGS.count16)):
        errors = []
        for _ in range(count):
            material = ("graphene", "hbn")[int(rng.integers(2))]
            # half pristine, as data.sheets draws displaced sets (crystals would repeat)
            defective = rng.random() < 0.5 or not FLAGS.displacement
            defects = 3 * scale * scale if defective else 0
            sheet = sheets.defected(rng, material, (5 * scale, 3 * scale),
                                    vacancies=(0, defects), substitutions=(0, defects))
            if FLAGS.displacement:
                sheet = sheets.displaced(sheet, rng, rng.uniform(0, FLAGS.displacement))
            start = time.perf_counter()
            energy, _ = labeller.label(sheet, method)
            labelling = time.perf_counter() - start
            start = time.perf_counter()
            predicted = inference.sheet_energy(model, facts, sheet) + labeller.free_atoms(
                sheet, method)
            errors.append(1000 * abs(predicted - energy) / images.area(sheet))
            print(f"{scale * scale}x cell, {sheet.get_chemical_formula()}: {method} "
                  f"{energy:.2f} eV ({labelling:.0f} s), EDNN {predicted:.2f} eV "
                  f"({time.perf_counter() - start:.2f} s): {errors[-1]:.2f} meV/A^2", flush=True)
        if errors:
            print(f"{scale * scale}x cells: median |error| {np.median(errors):.2f} meV/A^2 over "
                  f"{len(errors)}; the labeller's own pristine {scale}x{scale} cell minus "
                  f"{scale * scale}x the cell: " + ", ".join(
                      f"{material} {value:+.2f}" for material, value in
                      finite_size(method, scale).items()) + " meV/A^2")


if __name__ == "__main__":
    cli.run(main)
