"""Metropolis speed: tfphys vs dwave-samplers' SimulatedAnnealingSampler, same run, one core.

The issue's instance: a 2D Edwards-Anderson spin glass (L = 10, Gaussian J, torus), 64
replicas x 4000 sweeps, linear beta schedule 0.1 -> 3. Both are timed end to end (set-up and
sampling), best of --repeats, on one thread. Prints spin-update attempts per second per core,
the ratio, and the mean/min final energies so the work done is visibly the same.

Run: .venv/bin/python benchmarks/metropolis_vs_dwave.py
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from absl import flags  # noqa: E402
from dwave.samplers import SimulatedAnnealingSampler  # noqa: E402

import common  # noqa: E402

from tfphys import cli  # noqa: E402
from tfphys.physics import annealing  # noqa: E402
from tfphys.physics.spins import couplings  # noqa: E402
from tfphys.physics.spins.metropolis import Metropolis  # noqa: E402
from tfphys.rl import evaluation  # noqa: E402

flags.DEFINE_integer("L", 10, "Lattice side of the spin glass.")
flags.DEFINE_integer("replicas", 64, "Replicas (dwave: num_reads).")
flags.DEFINE_integer("sweeps", 4000, "Sweeps per replica.")
flags.DEFINE_integer("repeats", 3, "Timed repetitions; the best is reported.")
FLAGS = flags.FLAGS



def main(argv):
    del argv
    model = couplings.edwards_anderson(FLAGS.L, seed=2021)
    betas = annealing.linear(0.1, 3.0, FLAGS.sweeps)
    bqm = evaluation.bqm(model)
    dwave = SimulatedAnnealingSampler()
    attempts = FLAGS.replicas * FLAGS.sweeps * model.n

    def run_dwave():
        return dwave.sample(bqm, num_reads=FLAGS.replicas, beta_schedule_type="custom",
                            beta_schedule=betas, seed=1).record.energy

    def run_ours(order):
        return lambda: Metropolis(model, FLAGS.replicas, seed=1, order=order).run(betas).energy[:, -1]

    for order in ("sequential", "replicas"):
        run_ours(order)()  # compile outside the timing
    rows = [("dwave-samplers SimulatedAnnealingSampler (sequential)",
             *common.best(run_dwave, FLAGS.repeats))]
    rows += [(f"tfphys Metropolis ({order})", *common.best(run_ours(order), FLAGS.repeats))
             for order in ("replicas", "sequential", "random")]
    common.header()
    print(f"instance: EA L={FLAGS.L}, {FLAGS.replicas} replicas x {FLAGS.sweeps} sweeps, one thread")
    peer = attempts / rows[0][1]
    for name, seconds, energies in rows:
        rate = attempts / seconds
        print(f"{name:<56} {seconds:7.3f} s  {rate:9.3e} updates/s/core  x{rate / peer:5.2f}  "
              f"E mean {np.mean(energies):9.3f} min {np.min(energies):9.3f}")


if __name__ == "__main__":
    cli.run(main)
