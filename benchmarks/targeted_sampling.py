"""Targeted sampling throughput: configurations per second for the thesis's datasets.

4 x 4 Ising: 27,000 examples (1,800 in each of 15 classes); 8 x 8 Ising: 100,800 examples
(1,600 in each of 63 classes) and 1,008,000 (16,000 each), in 1 and --processes processes.
Prints configs/s and checks the histogram is flat. Worker start-up and result transfer make
extra processes pay off only for large datasets.

Run: .venv/bin/python benchmarks/targeted_sampling.py
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.physics.spins import couplings, ising, targeted

flags.DEFINE_integer("processes", 2, "Processes for the parallel run.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    targeted.fill_bins(couplings.ising(4), targeted.level_edges(ising.energy_levels(4)), 1)  # compile
    common.header()
    for L, cap in ((4, 1800), (8, 1600), (8, 16000)):
        edges = targeted.level_edges(ising.energy_levels(L))
        for processes in sorted({1, FLAGS.processes}):
            t = time.perf_counter()
            bins = targeted.sample(couplings.ising(L), edges, cap, processes, seed=0)
            seconds = time.perf_counter() - t
            n = int(bins.counts.sum())
            flat = bool(np.all(bins.counts == cap))
            print(f"{L}x{L} Ising, {len(edges) - 1} classes x {cap}: {n} configs in {seconds:6.2f} s "
                  f"= {n / seconds:10,.0f} configs/s with {processes} process(es); flat={flat}")


if __name__ == "__main__":
    cli.run(main)
