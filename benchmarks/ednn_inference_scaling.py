"""EDNN inference cost against lattice size: O(N) means x4 time per x4 area.

The Ising EDNN (f = 1, c = 1, the thesis's MLP brain, untrained weights: the cost does not
depend on them) evaluates one L x L configuration for L = 64 ... 1024 with
`tfphys.models.ednn.predict_tiled` (bounded memory); for the sizes where it fits, the plain
Keras call is timed too and must agree. Best of --repeats.

Run: .venv/bin/python benchmarks/ednn_inference_scaling.py
"""

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.models import ednn

flags.DEFINE_list("sizes", ["64", "128", "256", "512", "1024"], "Lattice sides.")
flags.DEFINE_integer("max_tiles", 1 << 16, "Tiles per brain call (memory bound).")
flags.DEFINE_integer("repeats", 3, "Timed repetitions; the best is reported.")
FLAGS = flags.FLAGS



def main(argv):
    del argv
    model = ednn.ednn(ednn.mlp_brain(1, 1), 1, 1)
    common.header()
    previous = None
    for L in map(int, FLAGS.sizes):
        x = np.random.default_rng(L).choice([-1.0, 1.0], size=(1, L, L, 1)).astype(np.float32)
        ednn.predict_tiled(model, x[:, :64, :64], FLAGS.max_tiles)  # warm up
        seconds, tiled = common.best(lambda: ednn.predict_tiled(model, x, FLAGS.max_tiles),
                                     FLAGS.repeats)
        line = f"L={L:5d}  {L * L:9d} spins  {seconds:8.4f} s  {L * L / seconds:12,.0f} spins/s"
        if previous:
            line += f"  x{seconds / previous:5.2f} per 4x area"
        if L <= 256:
            direct_s, direct = common.best(lambda: model(x).numpy(), FLAGS.repeats)
            line += f"  (plain call {direct_s:.4f} s, |diff| {abs(direct[0, 0] - tiled[0, 0]):.2e})"
        print(line)
        previous = seconds


if __name__ == "__main__":
    cli.run(main)
