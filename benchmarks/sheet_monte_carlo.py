"""The sheet EDNN inside Metropolis (thesis: graphene at 1000 K, g(r) against the reference):
pristine graphene in the thesis's 60-atom cell, --sweeps sweeps with the EDNN as the energy
(only the tiles a move touches re-evaluated) and --reference_sweeps with the labeller's energy
computed for every trial (shorter: each is a full electronic-structure calculation); prints
the time per energy evaluation of both against the thesis's 0.39 s, the mean energies, and
g(r) of both runs (first-shell peak and width, largest difference); --plot draws g(r).

Run: .venv/bin/python benchmarks/sheet_monte_carlo.py --model runs/hexagonal/model_ednn \\
         [--sweeps 200 --reference_sweeps 10 --temperature 1000 --plot gr.png]
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli, plots
from tfphys.physics.atoms import labeller, metropolis, sheets
from tfphys.training import export, operators

flags.DEFINE_string("model", None, "Exported sheet EDNN (bin/train_sheets --export).")
flags.DEFINE_integer("sweeps", 200, "Sweeps with the EDNN energy.", lower_bound=1)
flags.DEFINE_integer("reference_sweeps", 10, "Sweeps with the labeller's energy.", lower_bound=0)
flags.DEFINE_integer("equilibrate", 5, "Sweeps dropped before g(r).", lower_bound=0)
flags.DEFINE_float("temperature", 1000.0, "Temperature in kelvin.", lower_bound=1.0)
flags.DEFINE_float("step", 0.08, "Side of the cube a move is drawn from (Angstrom).")
flags.DEFINE_string("plot", None, "PNG of both g(r) curves.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def _run(sheet, energy, sweeps):
    """(frames after equilibration, energies, seconds per energy evaluation, acceptance)."""
    engine = metropolis.PositionMetropolis(sheet, energy, FLAGS.step, seed=0)
    beta = 1 / (metropolis.KB * FLAGS.temperature)
    frames, energies, accepted = [], [], []
    start = time.perf_counter()
    for k in range(sweeps):
        trace = engine.run([beta])
        energies.append(trace.energy[0, 0])
        accepted.append(trace.acceptance[0, 0])
        if k >= FLAGS.equilibrate:
            frames.append(engine.spins[0].copy())
    seconds = (time.perf_counter() - start) / (sweeps * len(sheet))
    return np.array(frames), np.array(energies), seconds, float(np.mean(accepted))


def main(argv):
    del argv
    common.header()
    model, facts = export.load(FLAGS.model), export.metadata(FLAGS.model)
    method = labeller.key(facts["labeller"]["method"])
    sheet = sheets.hexagonal("graphene")
    curves = {}
    runs = [("EDNN", operators.SheetEnergy(model, facts, sheet), FLAGS.sweeps)]
    if FLAGS.reference_sweeps > FLAGS.equilibrate:
        runs.append((labeller.METHODS[method], labeller.LabellerEnergy(sheet, method),
                     FLAGS.reference_sweeps))
    for name, energy, sweeps in runs:
        frames, energies, seconds, acceptance = _run(sheet, energy, sweeps)
        r, g = metropolis.radial_distribution(frames, sheet.cell, 4.0, 160)
        shell = (r > 1.1) & (r < 1.8)
        peak = r[shell][np.argmax(g[shell])]
        width = np.sqrt(np.sum(g[shell] * (r[shell] - peak) ** 2) / np.sum(g[shell]))
        curves[name] = g
        offset = labeller.free_atoms(sheet, method) if name == "EDNN" else 0.0
        print(f"{name}: {sweeps} sweeps, {1000 * seconds:.1f} ms per energy evaluation "
              f"({0.39 / seconds:.1f}x the speed of the thesis's 0.39 s), acceptance "
              f"{acceptance:.2f}, mean energy {np.mean(energies[FLAGS.equilibrate:]) + offset:.3f}"
              f" eV, g(r) first shell at {peak:.3f} A, width {width:.3f} A", flush=True)
    if len(curves) == 2:
        a, b = curves.values()
        print(f"largest |g_EDNN - g_reference| {np.max(np.abs(a - b)):.2f} (peak heights "
              f"{a.max():.2f} / {b.max():.2f})")
    if FLAGS.plot:
        plots.curves(r, curves, FLAGS.plot, f"graphene at {FLAGS.temperature:g} K", "r (A)",
                     "g(r)")
        print(f"plot: {FLAGS.plot}")


if __name__ == "__main__":
    cli.run(main)
