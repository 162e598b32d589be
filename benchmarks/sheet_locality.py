"""How local are the labeller's sheet energies? The interaction of two point defects in the
thesis's 60-atom cell, dE(d) = E(both, d apart) - E(first alone) - E(second alone) +
E(pristine), for every distinct pair (`sheets.defect_pairs`). A model that sums per-atom
energies of environments of reach R (the environment-count peer of sheet_peers.py: R = 2.6
Angstrom) gives dE = 0 once no atom is within R of both defects, d > 2R, and an EDNN gives
dE = 0 once no tile window (focus + 2 context, 6.4 Angstrom for the quick presets) holds both.
What the labeller puts beyond that reach, per area of the cell, no such model can learn, and
a sheet with several defects carries one such term per pair: the part that does not decay
(a donor's electron moved to an acceptor, two odd electrons paired, at any distance in the
cell) and the part that changes with the separation.

Run: .venv/bin/python benchmarks/sheet_locality.py [--pairs hbn:C@B+C@N,graphene:B@C+N@C]
         [--plot runs/locality.png]
"""

import time

import numpy as np
from absl import flags

import common

from tfphys import cli, plots
from tfphys.errors import InputError
from tfphys.physics.atoms import images, labeller, sheets

flags.DEFINE_list("pairs", ["hbn:C@B+C@N", "hbn:C@B+C@B", "graphene:B@C+N@C",
                            "graphene:vacancy@C+vacancy@C"],
                  "MATERIAL:X@SITE+Y@SITE: species X (or 'vacancy') on a site of species SITE.")
flags.DEFINE_enum("calculator", "gfn1", sorted(labeller.METHODS), "The labeller.")
flags.DEFINE_float("reach", 2.6, "Reach R of a local model in Angstrom: dE beyond 2R is what "
                   "it cannot learn.", lower_bound=0)
flags.DEFINE_string("plot", None, "PNG of dE per area against the separation.")
FLAGS = flags.FLAGS


def parsed(pair):
    """(material, (species or None, site species) twice) of 'hbn:C@B+C@N'."""
    try:
        material, defects = pair.split(":")
        defects = [tuple(d.split("@")) for d in defects.split("+")]
        assert len(defects) == 2 and all(len(d) == 2 for d in defects)
    except (ValueError, AssertionError):
        raise InputError(f"--pairs entry {pair!r} is not MATERIAL:X@SITE+Y@SITE (e.g. "
                         "hbn:C@B+C@N, graphene:vacancy@C+N@C)") from None
    return material, [(None if new == "vacancy" else new, site) for new, site in defects]


def energy(sheet):
    return labeller.label(sheet, FLAGS.calculator)[0]


def interactions(material, defects):
    """(separations, dE in eV) of every distinct pair, and the cell's area."""
    pairs = sheets.defect_pairs(material, *defects)  # checks that the sites exist
    pristine = sheets.hexagonal(material)
    symbols = pristine.get_chemical_symbols()
    offset = sum(energy(sheets.with_defects(pristine, [symbols.index(site)], [new]))
                 for new, site in defects) - energy(pristine)
    return (np.array([d for d, _ in pairs]), np.array([energy(s) - offset for _, s in pairs]),
            images.area(pristine))


def main(argv):
    del argv
    common.header()
    limit = 2 * FLAGS.reach
    curves = {}
    for pair in FLAGS.pairs:
        material, defects = parsed(pair)
        start = time.perf_counter()
        separation, interaction, area = interactions(material, defects)
        per_area = 1000 * interaction / area
        print(f"\n{pair}: {len(separation)} distinct pairs, {time.perf_counter() - start:.0f} s "
              f"({labeller.METHODS[FLAGS.calculator]}, cell {area:.1f} A^2)")
        print("   d (A)    dE (eV)  dE (meV/A^2)")
        for d, e, e_area in zip(separation, interaction, per_area):
            print(f"  {d:6.2f}  {e:+9.3f}  {e_area:+8.2f}")
        far = separation > limit
        if far.any():
            low, high = per_area[far].min(), per_area[far].max()
            print(f"beyond 2R = {limit:.1f} A ({far.sum()} pairs): dE from {low:+.2f} to "
                  f"{high:+.2f} meV/A^2, at the farthest {per_area[-1]:+.2f} (what does not "
                  f"decay: charge moved between the defects or paired at any distance), a spread "
                  f"of {high - low:.2f} with the separation")
        curves[pair] = (separation, per_area)
    if FLAGS.plot:
        print(f"plot: {plots.interactions(curves, FLAGS.plot, limit)}")


if __name__ == "__main__":
    cli.run(main)
