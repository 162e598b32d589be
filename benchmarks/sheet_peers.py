"""Classical peers of the sheet EDNN on the same dataset and SHA3 split: composition alone (a
linear fit on the count of each element), a fitted pair potential (ridge regression on, for
every pair of elements, the number of bonds and the sums of r, r^2 and r^3 over bonds shorter
than --cutoff, from ASE's periodic neighbour list) and environment counts (ridge regression on
how many atoms of each atom-centred environment a sheet holds: an element and its neighbours
of each element per 0.1 Angstrom distance bin within --environment_cutoff; any energy that is
a sum of per-atom terms of such environments is linear in these counts, so on crystals, where
environments repeat, this fit is the least-squares best of every such model on the training
sheets). What the structures alone explain, next to an exported EDNN or CNN (--model):
median |error| per area in meV / Angstrom^2, also per host lattice where a set mixes graphene
and hBN (their defects interact over different reaches: see sheet_locality.py).

Run: .venv/bin/python benchmarks/sheet_peers.py --data runs/hexagonal \\
         --model runs/hexagonal/model_ednn
"""

import collections
import itertools
import time

import numpy as np
import sklearn.linear_model
from ase.neighborlist import neighbor_list
from absl import flags

import common

from tfphys import cli
from tfphys.data import shards, sheets as sheet_data
from tfphys.training import export, sheet_training

flags.DEFINE_string("data", None, "Sheet dataset directory written by bin/generate_sheets.")
flags.DEFINE_list("model", [], "Exported sheet models (bin/train_sheets --export) to score too.")
flags.DEFINE_float("cutoff", 1.8, "Bond cutoff in Angstrom (first neighbours only).")
flags.DEFINE_float("environment_cutoff", 2.6, "Reach of the environment counts in Angstrom "
                   "(2.6: first and second neighbours).")
flags.DEFINE_float("alpha", 1e-6, "Ridge regularisation of the pair potential and the "
                   "environment counts.")
flags.mark_flag_as_required("data")
FLAGS = flags.FLAGS

POWERS = (0, 1, 2, 3)  # sum of r^k over bonds, per pair of elements
SHELL = 0.1  # Angstrom: the distance bins of the environment counts


def environments(sheet):
    """A Counter of the sheet's atom-centred environments: (element, sorted ((distance bin,
    element), neighbours) within --environment_cutoff)."""
    i, j, r = neighbor_list("ijd", sheet, FLAGS.environment_cutoff)
    around = [collections.Counter() for _ in range(len(sheet))]
    for a, b, shell in zip(i, j, np.round(r / SHELL).astype(int)):
        around[a][shell, sheet.numbers[b]] += 1
    return collections.Counter((z, tuple(sorted(c.items())))
                               for z, c in zip(sheet.numbers, around))


def counts(bags, test):
    """(sheets, environments seen in training) counts, and the share of test atoms whose
    environment the training sheets hold."""
    seen = {}
    for bag in itertools.compress(bags, ~test):
        for environment in bag:
            seen.setdefault(environment, len(seen))
    x = np.zeros((len(bags), len(seen)))
    for k, bag in enumerate(bags):
        for environment, n in bag.items():
            if environment in seen:
                x[k, seen[environment]] = n
    test_atoms = sum(sum(b.values()) for b in itertools.compress(bags, test))
    return x, x[test].sum() / max(test_atoms, 1)


def features(stored, elements):
    """(composition (n, elements), pair terms (n, pairs x POWERS), `environments` of each)
    of every stored sheet (the dataset's "atoms", "numbers", "positions" and "cell")."""
    pairs = list(itertools.combinations_with_replacement(elements, 2))
    count = len(stored["atoms"])
    composition = np.zeros((count, len(elements)))
    terms = np.zeros((count, len(pairs) * len(POWERS)))
    bags = []
    for k in range(count):
        sheet = sheet_data.stored_sheet(stored, k)
        composition[k] = [np.sum(sheet.numbers == z) for z in elements]
        bags.append(environments(sheet))
        i, j, r = neighbor_list("ijd", sheet, FLAGS.cutoff)
        first = i < j  # each bond once
        zi, zj, r = np.minimum(sheet.numbers[i], sheet.numbers[j])[first], \
            np.maximum(sheet.numbers[i], sheet.numbers[j])[first], r[first]
        for p, (a, b) in enumerate(pairs):
            bond = r[(zi == a) & (zj == b)]
            terms[k, p * len(POWERS):(p + 1) * len(POWERS)] = [np.sum(bond ** q) for q in POWERS]
    return composition, terms, bags


def fitted(x, label, test, alpha):
    """Predictions on the test split of a ridge fit on the training split (scaled features)."""
    scale = np.maximum(x[~test].std(0), 1e-12)
    fit = sklearn.linear_model.Ridge(alpha=alpha).fit(x[~test] / scale, label[~test])
    return fit.predict(x[test] / scale)


def scored(predicted, true, area, host):
    """sheet_training.figures, and the median per area on each host lattice of `host`."""
    out = sheet_training.figures(predicted, true, area)
    if len(set(host)) > 1:
        for name in sorted(set(host)):
            on = host == name
            out[f"median_{name}_meV_per_A2"] = sheet_training.figures(
                predicted[on], true[on], area[on])["median_abs_error_meV_per_A2"]
    return out


def main(argv):
    del argv
    common.header()
    structure = ("atoms", "numbers", "positions", "cell")
    label, area, test, *stored = shards.fields(
        FLAGS.data, [sheet_training.LABEL, "area", "test", *structure])
    stored = dict(zip(structure, stored))
    numbers = stored["numbers"]
    elements = sorted(set(np.unique(numbers)) - {0})
    carbon = (numbers == 6).sum(1) > (numbers > 0).sum(1) / 2
    host = np.where(carbon, "graphene", "hbn")[test]
    print(f"{FLAGS.data}: {len(label)} sheets ({int((~test).sum())} train / {int(test.sum())} "
          f"test), elements {elements}, label std {label[~test].std():.2f} eV")
    start = time.perf_counter()
    composition, terms, bags = features(stored, elements)
    environment, covered = counts(bags, test)
    print(f"features: {time.perf_counter() - start:.1f} s; {environment.shape[1]} environments "
          f"in the training sheets, {100 * covered:.1f} % of the test atoms' among them")
    for name, x in (("composition", composition),
                    ("pair potential", np.concatenate([composition, terms], 1)),
                    ("environment counts", environment)):
        predicted = fitted(x, label, test, FLAGS.alpha)
        cli.print_figures(name, scored(predicted, label[test], area[test], host))
    for directory in FLAGS.model:
        predicted, true = sheet_training.predict(export.load(directory), FLAGS.data, "test")
        cli.print_figures(f"{directory} ({export.metadata(directory)['preset']})",
                          scored(predicted, true, area[test], host))


if __name__ == "__main__":
    cli.run(main)
