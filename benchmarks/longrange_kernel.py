"""Long-range energies: precomputed periodic kernel vs the explicit image sum, and vs a learned
operator (the thesis's network was 1600x faster than its CUDA image sum).

Screened Coulomb on 8 x 8 lattices with the thesis's cutoff r_cut = 64 (8 L). Prints the time
per configuration of both methods, the kernel's one-off set-up time, the speed ratio and the
largest difference between the two (must be below 1e-10). With --model (an export of
`bin/train_cnn --preset screened_coulomb8_regress`), also the network's time per configuration
on the same configurations (batches of --batch) and its median |error| against the kernel.

Run: .venv/bin/python benchmarks/longrange_kernel.py [--model runs/sc8/model]
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.physics.spins import longrange

flags.DEFINE_integer("L", 8, "Lattice side.")
flags.DEFINE_integer("explicit", 50, "Configurations evaluated by the explicit image sum.")
flags.DEFINE_integer("kernel", 100000, "Configurations evaluated with the kernel (one batch).")
flags.DEFINE_float("screening", 1.0, "Screening constant k (the presets' default is 1).")
flags.DEFINE_string("model", None, "Exported screened Coulomb energy network to time as well.")
flags.DEFINE_integer("batch", 4096, "Configurations per network call.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    configs = rng.choice(np.array([-1, 1], np.int8), size=(FLAGS.kernel, FLAGS.L, FLAGS.L))
    t = time.perf_counter()
    kernel = longrange.PeriodicKernel(FLAGS.L, "screened_coulomb", screening=FLAGS.screening)
    setup = time.perf_counter() - t
    t = time.perf_counter()
    fast = kernel.energy(configs)
    per_fast = (time.perf_counter() - t) / FLAGS.kernel
    t = time.perf_counter()
    slow = longrange.explicit_energy(configs[:FLAGS.explicit], "screened_coulomb",
                                     screening=FLAGS.screening)
    per_slow = (time.perf_counter() - t) / FLAGS.explicit
    common.header()
    print(f"screened Coulomb, L={FLAGS.L}, r_cut={kernel.r_cut:g}")
    print(f"explicit image sum   {per_slow * 1e6:12.2f} us/config")
    print(f"periodic kernel      {per_fast * 1e6:12.4f} us/config  (set-up {setup * 1e3:.1f} ms once)")
    print(f"speed-up             {per_slow / per_fast:12.0f}x")
    print(f"max |difference|     {np.abs(fast[:FLAGS.explicit] - slow).max():12.2e}")
    if FLAGS.model:
        from tfphys.training import export, operators

        network = operators.operator(export.load(FLAGS.model), FLAGS.L)
        network(configs[:FLAGS.batch])  # trace once
        t = time.perf_counter()
        learned = np.concatenate([network(configs[i:i + FLAGS.batch])
                                  for i in range(0, len(configs), FLAGS.batch)])
        per_net = (time.perf_counter() - t) / FLAGS.kernel
        print(f"learned operator     {per_net * 1e6:12.4f} us/config  (batches of {FLAGS.batch}; "
              f"median |error| {np.median(np.abs(learned - fast)):.4f} J)")
        print(f"network vs image sum {per_slow / per_net:12.0f}x faster")
        print(f"network vs kernel    {per_fast / per_net:12.4f}x (below 1: the kernel is faster)")


if __name__ == "__main__":
    cli.run(main)
