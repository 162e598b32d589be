"""Labelling speed of sheets with GFN1-xTB (tblite): the labeller with MKL's LAPACK (what
`tfphys.physics.atoms.labeller` loads) against tblite's own bundled reference LAPACK, the same
seeded porous (or hexagonal) cells, in the same run. Each LAPACK is a separate process (the
choice is made once, before tblite loads: TFPHYS_LAPACK); each labels the cells on every core,
as bin/generate_sheets does, and the energies are compared.

Run: .venv/bin/python benchmarks/sheet_labelling.py [--kind porous] [--count 4]
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.errors import JobFailed

flags.DEFINE_enum("kind", "porous", ["hexagonal", "porous"], "Sheets to label.")
flags.DEFINE_integer("count", 4, "Cells labelled by each LAPACK.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the cells.")
flags.DEFINE_string("child", None, "Internal: label in this process and print JSON.")
FLAGS = flags.FLAGS


def _label():
    from tfphys.data import sheets
    from tfphys.physics.atoms import labeller
    cells = sheets.structures(FLAGS.kind, FLAGS.count, np.random.default_rng(FLAGS.seed), 0.0)
    start = time.perf_counter()
    energies = [energy for energy, _ in labeller.label_many(cells, "gfn1")]
    print(json.dumps({"lapack": labeller.LAPACK, "seconds": time.perf_counter() - start,
                      "energies": energies, "atoms": [len(cell) for cell in cells]}))


def _run(lapack):
    argv = [sys.executable, os.path.abspath(__file__), f"--kind={FLAGS.kind}",
            f"--count={FLAGS.count}", f"--seed={FLAGS.seed}", f"--child={lapack}"]
    child = subprocess.run(argv, env={**os.environ, "TFPHYS_LAPACK": lapack},
                           capture_output=True, text=True)
    if child.returncode:
        raise JobFailed(f"labelling with TFPHYS_LAPACK={lapack} failed: "
                        f"{(child.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS.child:
        return _label()
    common.header()
    runs = [_run(lapack) for lapack in ("mkl", "bundled")]
    cores = os.cpu_count()
    for run in runs:
        print(f"{run['lapack']}: {FLAGS.count} {FLAGS.kind} cells ({min(run['atoms'])}-"
              f"{max(run['atoms'])} atoms) in {run['seconds']:.1f} s on {cores} cores, "
              f"{3600 * FLAGS.count / run['seconds']:.0f} cells/hour")
    gap = np.max(np.abs(np.subtract(runs[0]["energies"], runs[1]["energies"])))
    print(f"speed-up {runs[1]['seconds'] / runs[0]['seconds']:.2f}x; largest energy difference "
          f"{gap:.1e} eV")
    return 0


if __name__ == "__main__":
    cli.run(main)
