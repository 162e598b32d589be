"""Finite-difference eigensolver speed and accuracy: tfphys's multigrid LOBPCG against scipy's
eigsh on the same matrix, same potentials, same run, one core each.

For --count potentials of every class (thesis Appendix B, 256 x 256): eigsh in shift-invert
mode just below min V (its fastest use here; plain which='SA' is slower still, shown for the
first potential of every class) to machine precision as the reference, then tfphys's
`solver.solve`; prints the time per potential of each, the ratio, the largest |eps0|, |eps1|
difference, the SHO's median |eps0 - (sqrt k_x + sqrt k_y) / 2| (thesis: 0.12 mHa) and the
batch throughput of `solve_many` on every core.

Run: .venv/bin/python benchmarks/schrodinger_solver.py [--count 5]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse.linalg  # noqa: E402
from absl import flags  # noqa: E402

import common  # noqa: E402

from tfphys import cli  # noqa: E402
from tfphys.physics.schrodinger import potentials, solver  # noqa: E402

flags.DEFINE_integer("count", 5, "Potentials of every class.", lower_bound=1)
flags.DEFINE_integer("batch", 32, "Potentials in the all-core throughput run.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the potentials.")
FLAGS = flags.FLAGS


def _eigsh(V, **kwargs):
    start = time.perf_counter()
    values = scipy.sparse.linalg.eigsh(solver.hamiltonian(V), k=2, tol=0, **kwargs)[0]
    return time.perf_counter() - start, np.sort(values)


def main(argv):
    del argv
    common.header()
    solver.solve(potentials.sho(1, seed=0)[0][0])  # compile the kernels outside the timings
    for kind in potentials.KINDS:
        V, params = potentials.generate(kind, FLAGS.count, FLAGS.seed)
        ours, theirs, errors, eps0 = [], [], [], []
        for k, v in enumerate(V):
            seconds, reference = _eigsh(v, sigma=v.min() - 0.01)
            if k == 0:
                plain = _eigsh(v, which="SA")[0]
            start = time.perf_counter()
            found = solver.solve(v)
            ours.append(time.perf_counter() - start)
            theirs.append(seconds)
            errors.append(np.abs([found.eps0 - reference[0], found.eps1 - reference[1]]).max())
            eps0.append(found.eps0)
        line = {"eigsh_shift_invert_ms": round(1000 * np.median(theirs), 1),
                "eigsh_SA_ms (first)": round(1000 * plain, 1),
                "tfphys_ms": round(1000 * np.median(ours), 1),
                "ratio_median": round(np.median(np.array(theirs) / ours), 1),
                "ratio_min": round(np.min(np.array(theirs) / ours), 1),
                "max_abs_error_Ha": float(f"{max(errors):.1e}"),
                "eps0_range_Ha": [round(min(eps0), 3), round(max(eps0), 3)]}
        if kind == "sho":
            exact = 0.5 * (np.sqrt(params["kx"]) + np.sqrt(params["ky"]))
            line["median_abs_eps0_minus_analytic_mHa"] = round(
                1000 * np.median(np.abs(np.array(eps0) - exact)), 3)
        print(f"{kind}: {line}")
    V = np.concatenate([potentials.generate(kind, -(-FLAGS.batch // 4), FLAGS.seed + 1)[0]
                        for kind in potentials.KINDS])
    start = time.perf_counter()
    solver.solve_many(V)
    seconds = time.perf_counter() - start
    print(f"batch of {len(V)} on {os.cpu_count()} cores: {len(V) / seconds:.1f} potentials/s "
          f"({1000 * seconds / len(V):.1f} ms each)")


if __name__ == "__main__":
    cli.run(main)
