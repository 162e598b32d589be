"""Atoms as images: time per image of tfphys's windowed, vectorised construction against a
direct per-atom loop (every atom's periodic Gaussian on the whole grid, minimum image) in the
same run, and against the thesis's 0.39 s per evaluation; for the thesis's 60-atom graphene
cell at 256 x 256 and cells 4x and 16x larger at the same resolution (0.05 Angstrom).

Run: .venv/bin/python benchmarks/atom_images.py [--repeats 5]
"""

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.physics.atoms import images, sheets

flags.DEFINE_integer("repeats", 5, "Timed repetitions (best is kept).", lower_bound=1)
FLAGS = flags.FLAGS
THESIS_SECONDS = 0.39


def per_atom_loop(atoms, shape, gamma=images.GAMMA):
    """The direct construction: for each atom, its Gaussian at the nearest periodic copy."""
    n1, n2 = shape
    plane = np.asarray(atoms.cell)[:2, :2]
    frac = np.stack(np.meshgrid(np.arange(n1) / n1, np.arange(n2) / n2, indexing="ij"), -1)
    out = np.zeros(shape)
    for z, position in zip(atoms.numbers, atoms.positions[:, :2]):
        step = frac - position @ np.linalg.inv(plane)
        step -= np.round(step)  # nearest copy
        out += z * np.exp(-np.sum((step @ plane) ** 2, -1) / (2 * gamma ** 2))
    return out


def main(argv):
    del argv
    common.header()
    for scale in (1, 2, 4):
        sheet = sheets.hexagonal("graphene", (5 * scale, 3 * scale))
        shape = (256 * scale, 256 * scale)
        ours, picture = common.best(lambda: images.image(sheet, shape), FLAGS.repeats)
        loop, direct = common.best(lambda: per_atom_loop(sheet, shape), max(1, FLAGS.repeats // 2))
        print(f"{len(sheet)} atoms, {shape[0]}x{shape[1]}: tfphys {1000 * ours:.2f} ms "
              f"({1e6 * ours / len(sheet):.1f} us/atom), per-atom loop {1000 * loop:.1f} ms "
              f"({loop / ours:.0f}x), thesis 390 ms ({THESIS_SECONDS / ours:.0f}x); "
              f"max |difference| {np.abs(picture - direct).max():.1e}")


if __name__ == "__main__":
    cli.run(main)
