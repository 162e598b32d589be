"""C(T) and <E>(T) of the L x L Ising model with a learned energy operator, against the exact
transfer-matrix curve, next to the exact Hamiltonian run through the same Monte Carlo.

The exact-Hamiltonian Metropolis shows the statistical floor of the run; the learned operator
(a focus-1 EDNN, tabulated, or any exported network called per proposal batch) should sit on
the exact curve as closely. Thesis: the learned curves match the exact Hamiltonian's.

Run: .venv/bin/python benchmarks/learned_thermodynamics.py --energy_model runs/ednn8/model
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli, testing
from tfphys.physics.spins import couplings, thermo
from tfphys.training import export, operators

flags.DEFINE_string("energy_model", None, "Exported energy model (bin/train_ednn --export).",
                    required=True)
flags.DEFINE_integer("L", 8, "Lattice side (the exact reference needs L <= 10).")
flags.DEFINE_list("T", ["4.0", "3.0", "2.6", "2.4", "2.27", "2.1", "2.0", "1.8", "1.5"],
                  "Temperatures, hot to cold.")
flags.DEFINE_integer("replicas", 64, "Independent replicas.")
flags.DEFINE_integer("equilibrate", 2000, "Sweeps discarded at each temperature.")
flags.DEFINE_integer("measure", 20000, "Sweeps measured at each temperature.")
FLAGS = flags.FLAGS


def report(name, result, exact, seconds):
    e_dev = np.abs(result.energy - exact[:, 0]) / np.abs(exact[:, 0])
    c_dev = np.abs(result.heat_capacity - exact[:, 1]) / exact[:, 1]
    print(f"\n{name} ({seconds:.0f} s)\n{'T':>6} {'<E>/N':>18} {'exact':>8} {'C/N':>18} {'exact':>8}"
          f" {'dC/C':>7}")
    for i, T in enumerate(result.temperature):
        print(f"{T:6.3f} {result.energy[i]:8.4f} +- {result.energy_err[i]:6.4f} {exact[i, 0]:8.4f} "
              f"{result.heat_capacity[i]:8.4f} +- {result.heat_capacity_err[i]:6.4f} "
              f"{exact[i, 1]:8.4f} {100 * c_dev[i]:6.2f}%")
    print(f"  max |dE|/|E| {100 * e_dev.max():.2f} %, max |dC|/C {100 * c_dev.max():.2f} % "
          f"(C statistical error up to {100 * (result.heat_capacity_err / exact[:, 1]).max():.2f} %)")


def main(argv):
    del argv
    common.header()
    temps = np.array([float(t) for t in FLAGS.T])
    exact = np.array([testing.ising_transfer_matrix(FLAGS.L, T) for T in temps])
    args = (FLAGS.equilibrate, FLAGS.measure)
    start = time.perf_counter()
    reference = thermo.scan(couplings.ising(FLAGS.L), temps, FLAGS.replicas, *args, seed=1)
    report("exact Hamiltonian, Metropolis", reference, exact, time.perf_counter() - start)
    mc, how = operators.metropolis(export.load(FLAGS.energy_model), FLAGS.L, FLAGS.replicas, seed=2)
    start = time.perf_counter()
    learned = thermo.scan_engine(mc, temps, *args)
    report(f"learned operator ({how}), Metropolis", learned, exact, time.perf_counter() - start)


if __name__ == "__main__":
    cli.run(main)
