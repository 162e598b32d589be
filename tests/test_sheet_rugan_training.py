"""Sheet RUGAN training: a porous dataset's encodings and energies per area through
`fit.train`, scored by a real exported sheet EDNN at the training lattice and twice its sides,
novelty, a safe export that generates masked sheets at 4x the area, and one-line refusals.
The energies here are a bond count (no electronic structure in a unit test): the test checks
the machinery, the benchmarks the physics."""

import json
import os
import sys

import ase.io
from ase import neighborlist
import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import pipeline, sheets as sheet_data
from tfphys.data import shards
from tfphys.errors import InputError
from tfphys.models import hexagonal
from tfphys.physics.atoms import images, sheets, zigzag
from tfphys.training import export, inference, sheet_training
from tfphys.training.adversarial import sheet_rugan_training as training
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train


def porous_dataset(directory, count=9, seed=0, **changes):
    """A porous sheet dataset as bin/generate_sheets writes it, labelled by bonds: -2.5 eV per
    bond (pairs within 1.7 A), `changes` replacing fields."""
    made = sheet_data.structures("porous", count, np.random.default_rng(seed), displacement=0)
    bonds = np.array([((a.get_all_distances(mic=True) < 1.7).sum() - len(a)) / 2 for a in made])
    picture = images.images(made, sheet_data.SHAPES["porous"])
    fields = {"image": picture, "encoding": np.stack([zigzag.encode(a) for a in made]),
              "cohesive_energy": -2.5 * bonds, "area": np.array([images.area(a) for a in made]),
              "atoms": np.array([len(a) for a in made]),
              "cell": np.stack([np.asarray(a.cell) for a in made]),
              "test": np.arange(count) % 3 == 0, **changes}
    writer = shards.ShardWriter(directory, {"kind": "porous", "count": count,
                                            "shape": list(sheet_data.SHAPES["porous"]),
                                            "labeller": {"method": "bond count (test)"}})
    writer.write(0, **{k: v for k, v in fields.items() if v is not None})
    return directory


class SheetRuganTrainingTest(tf.test.TestCase):
    def test_trains_scores_with_a_sheet_ednn_and_exports(self):
        d = porous_dataset(os.path.join(self.get_temp_dir(), "porous"))
        per_area, test, area = training.labels(d)
        self.assertEqual(test.sum(), 3)
        self.assertAllClose(per_area * area / 1000, shards.fields(d, ["cohesive_energy"])[0])
        ednn = os.path.join(self.get_temp_dir(), "ednn")
        sheet_training.train_preset(sheet_training.preset_with("ednn_porous_quick", epochs=1,
                                                               batch_size=4), d,
                                    export_dir=ednn, verbose=0)
        path = os.path.join(self.get_temp_dir(), "generator")
        # one critic step per generator step: this test is about scoring, exports and the
        # command line, and every critic step is traced into the train step's graph (about
        # three minutes of this test went to tracing five; the distributed tests run several)
        preset = training.preset_with("rugan_hexagonal_quick", epochs=2, batch_size=4, filters=4,
                                      critic_steps=1)
        result = training.train_sheet_rugan(preset, d, energy_model=ednn, export_dir=path,
                                            verbose=0, count=3)
        self.assertEqual(result["examples"], 6)
        self.assertIn(result["best_epoch"], (1, 2))
        self.assertEqual(sorted(result["figures"]), [(18, 20), (36, 40)])
        facts = export.metadata(path)
        standard = (facts["label_mean"], facts["label_scale"])
        requested = per_area[test]
        made = training.generate(export.load(path), requested, (18, 20), standard)
        energy = [1000 * inference.sheet_energy(export.load(ednn), export.metadata(ednn), a)
                  / images.area(a) for a in map(zigzag.decode, made)]  # by hand
        figures = result["figures"][(18, 20)]
        self.assertEqual((figures["count"], figures["empty"]), (3, 0))
        self.assertAllClose(figures["median_abs_deviation_meV_per_A2"],
                            np.median(np.abs(np.array(energy) - requested)), rtol=1e-4)
        self.assertBetween(result["novelty"]["median_nearest_training_distance"], 0.0, 1.0)
        self.assertEqual(result["novelty"]["training_coordination"][:2], [0.0, 0.0])
        out = os.path.join(self.get_temp_dir(), "made", "sheets.npz")
        generate = lambda *args: testing.run_script(  # noqa: E731
            "generate", f"--model={path}", f"--energy={per_area[0]}", "--count=3",
            f"--energy_model={ednn}", *args)
        done = generate("--size=36x40", f"--out={out}", f"--plot={out}.png", "--best_of=2")
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        self.assertIn("median_abs_deviation_meV_per_A2", done.stdout)
        made = np.load(out)["encoding"]
        self.assertEqual((made.shape, made.dtype), ((3, 36, 40), np.int8))
        self.assertTrue(np.all(made[:, zigzag.mask(36, 40)] == -1))  # 4x the area, masked
        structures = ase.io.read(out[:-4] + ".extxyz", index=":")
        self.assertAllEqual([zigzag.encode(a) for a in structures], made)
        self.assertTrue(os.path.exists(f"{out}.png"))
        done = testing.run_script("evaluate", f"--model={path}", f"--data={d}",
                                  f"--energy_model={ednn}", "--count=3", f"--plot={out}.eval.png")
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])  # the run's figure, again
        line = next(x for x in done.stdout.splitlines() if "EDNN energy at 18x20" in x)
        again = json.loads(line[line.index("{"):])
        self.assertAllClose(again["median_abs_deviation_meV_per_A2"],
                            figures["median_abs_deviation_meV_per_A2"], rtol=1e-4)
        self.assertTrue(os.path.exists(f"{out}.eval.png"))
        done = testing.run_script("evaluate", f"--model={path}", f"--data={d}",
                                  f"--energy_model={ednn}", "--count=3", "--best_of=2")
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        self.assertIn("EDNN energy at 36x40, best of 2 by the EDNN", done.stdout)
        for args, message in ((["--size=36x41"], "breaks the zig-zag period"),
                              (["--best_of=2", "--energy_model="], "give --energy_model DIR")):
            bad = generate(*args)
            self.assertEqual(bad.returncode, 2)
            self.assertIn(message, bad.stderr.strip().splitlines()[-1])
        with self.assertRaisesRegex(InputError, "is not a sheet energy model"):
            training.train_sheet_rugan(preset, d, energy_model=path)  # a generator as scorer
        self.per_atom_model(d, ednn)

    def per_atom_model(self, d, ednn):
        """The thesis's second model: the same data conditioned on energy per atom; here with
        the label term, whose fitted regressor is exported beside the generator."""
        per_atom, test, _ = training.labels(d, "per_atom")
        energy, atoms = shards.fields(d, ["cohesive_energy", "atoms"])
        self.assertAllClose(per_atom, 1000 * energy / atoms)
        path = os.path.join(self.get_temp_dir(), "per_atom")
        preset = training.preset_with("rugan_hexagonal_quick", epochs=1, batch_size=4, filters=4,
                                      critic_steps=1, quantity="per_atom", label_weight=5.0)
        result = training.train_sheet_rugan(preset, d, energy_model=ednn, export_dir=path,
                                            verbose=0, count=3)
        facts = export.metadata(path)
        self.assertEqual(facts["quantity"], "per_atom")
        self.assertEqual(export.metadata(f"{path}_regressor")["kind"], "sheet_rugan_regressor")
        encodings = shards.fields(d, ["encoding"])[0][..., None]
        self.assertAllClose(export.load(f"{path}_regressor")(encodings),
                            result["model"].regressor(encodings), atol=1e-5)
        made = training.generate(export.load(path), per_atom[test], (18, 20),
                                 (facts["label_mean"], facts["label_scale"]))
        energy = [1000 * inference.sheet_energy(export.load(ednn), export.metadata(ednn), a)
                  / len(a) for a in map(zigzag.decode, made)]  # by hand
        self.assertAllClose(result["figures"][(18, 20)]["median_abs_deviation_meV_per_atom"],
                            np.median(np.abs(np.array(energy) - per_atom[test])), rtol=1e-4)

    def test_best_of_keeps_the_sheet_its_judge_puts_closest(self):
        """Best of 4 equals picking by hand among the candidates that the same seed makes for
        each request repeated 4 times; the judge here is the atom count (a NaN from it, as an
        empty sheet gets from the EDNN, is never kept while a finite candidate exists)."""
        generator = hexagonal.generator(3, 1, 4)
        requested, standard, shape = np.array([190.0, 200.0, 210.0]), (200.0, 10.0), (18, 20)
        candidates = training.generate(generator, np.repeat(requested, 4), shape, standard,
                                       seed=3)
        count = lambda made: (np.asarray(made) > 0).sum(axis=(1, 2)).astype(float)  # noqa: E731
        nan_first = lambda made: np.where(np.arange(len(made)) % 4 == 0, np.nan,  # noqa: E731
                                          count(made))
        for judge, first in ((count, 0), (nan_first, 1)):
            best = training.generate(generator, requested, shape, standard, seed=3, best_of=4,
                                     judge=judge)
            miss = np.abs(count(candidates) - np.repeat(requested, 4)).reshape(3, 4)
            for i in range(3):
                self.assertAllEqual(best[i], candidates[4 * i + first + np.argmin(miss[i, first:])])
        with self.assertRaisesRegex(InputError, "give an energy model to judge them"):
            training.generate(generator, requested, shape, standard, best_of=2)
        with self.assertRaisesRegex(InputError, "best_of must be >= 1, got 0"):
            training.generate(generator, requested, shape, standard, best_of=0, judge=count)

    def test_calculated_energies_per_area_and_per_atom(self):
        """GFN1-xTB on a graphene cell: the same energy after a rigid translation (wrapped;
        Gamma-point sampling keeps that symmetry), bound, the two quantities related by the
        atom count and area; empty sheets are NaN."""
        small = sheets.hexagonal("graphene", (2, 2))
        moved = small.copy()
        moved.translate([0.7, 0.3, 0.0])
        moved.wrap()
        for quantity in training.QUANTITIES:
            made = training.calculated([small, small[[]], moved], "gfn1", quantity, workers=2)
            self.assertTrue(np.isnan(made[1]))
            self.assertAllClose(made[0], made[2], rtol=1e-6)
            self.assertLess(made[0], 0)
        per_atom = training.calculated([small], "gfn1", "per_atom")[0]
        per_area = training.calculated([small], "gfn1", "per_area")[0]
        self.assertAllClose(per_area, per_atom * len(small) / images.area(small))

    def test_bonded_neighbours_equal_ase_neighbour_lists(self):
        """Random sheets (atoms on 70 % of the free sites, across the periodic boundary): the
        bonded-neighbour histogram equals ASE's neighbour list within 1.7 A."""
        rng = np.random.default_rng(3)
        made = np.where(zigzag.mask(18, 20) | (rng.random((4, 18, 20)) < 0.3), -1.0, 1.0)
        expected = sum(np.bincount(np.bincount(neighborlist.neighbor_list("i", a, 1.7),
                                               minlength=len(a)), minlength=4)[:4]
                       for a in map(zigzag.decode, made))
        self.assertAllEqual(training.bonded(made), expected)
        self.assertEqual(training.shares([0, 1, 1, 2]), [0.0, 0.25, 0.25, 0.5])

    def test_refusals_are_one_line(self):
        base = self.get_temp_dir()
        cases = ((dict(encoding=None), "holds no zig-zag encodings"),
                 (dict(area=np.arange(9.0) + 600), "mixes cells"),
                 (dict(cohesive_energy=np.r_[np.nan, np.zeros(8)]), "1 non-finite energies"))
        for k, (changes, message) in enumerate(cases):
            d = porous_dataset(os.path.join(base, f"bad{k}"), **changes)
            with self.assertRaisesRegex(InputError, message):
                training.train_sheet_rugan(training.PRESETS["rugan_hexagonal_quick"], d)
        with self.assertRaisesRegex(InputError, "give --data DIR"):
            training.train_sheet_rugan(training.PRESETS["rugan_hexagonal_quick"], None)
        with self.assertRaisesRegex(InputError, "breaks the zig-zag period"):
            training.generate(None, [1.0], (18, 21), (0.0, 1.0))
        self.assertEqual(training.preset_with("rugan_hexagonal_quick", epochs=7).select_from, 7)
        with self.assertRaisesRegex(InputError, "--select_from must be an epoch of the run"):
            training.preset_with("rugan_hexagonal_quick", epochs=7, select_from=8)


class DistributedTest(tf.test.TestCase):
    """The sheet RUGAN (hexagonal networks, batch normalization in the generator) through the
    one entry point on two replicas: MirroredStrategy on two logical CPUs, and two Horovod
    ranks under a real horovodrun, each with an odd number of sheets. Batch normalization's
    moving statistics are each Horovod rank's own, as in Horovod's Keras examples (the chief's
    are exported); every trained weight is identical."""

    def test_two_mirrored_replicas_apply_the_same_updates(self):
        # without images, as bin/generate_sheets --noimages writes it: the RUGAN reads none
        d = porous_dataset(os.path.join(self.get_temp_dir(), "porous"), count=11, image=None)
        data = pipeline.shard_examples(d, "cohesive_energy", "train", features="encoding").map(
            lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32) / 100.0, [1])))
        self.assertEqual(int(data.cardinality()), 7)
        preset = training.preset_with("rugan_hexagonal_quick", filters=4, critic_steps=2)
        dist = Distribution(devices=testing.use_logical_cpus(2))
        model, history = train(lambda: training.build(preset), data, TrainConfig(
            epochs=1, batch_size=4, learning_rate=1e-3, verbose=0), dist)
        self.assertEqual(dist.replicas, 2)
        self.assertEqual(int(model.generator_optimizer.iterations.numpy()), 2)  # ceil(7 / 4)
        self.assertTrue(np.all(np.isfinite(history.history["wasserstein"])))
        for variable in model.trainable_weights:  # moving statistics: each replica's own
            copies = dist.strategy.experimental_local_results(variable)
            self.assertLen(copies, 2)
            self.assertAllEqual(copies[0], copies[1])

    def test_two_horovod_ranks_end_with_identical_networks(self):
        d = porous_dataset(os.path.join(self.get_temp_dir(), "porous"), count=11, image=None)
        out = self.get_temp_dir()
        job = os.path.join(os.path.dirname(__file__), "jobs", "horovod_sheet_rugan.py")
        testing.horovodrun([sys.executable, job, d, out], np=2, timeout=300)
        ranks = [np.load(os.path.join(out, f"rank{r}.npz")) for r in range(2)]
        self.assertEqual([int(r["examples"]) for r in ranks], [7, 7])
        steps = [r["steps"].tolist() for r in ranks]
        self.assertEqual(steps[0], steps[1])
        self.assertEqual(steps[0][1], 4)  # 3 sheets a rank (one left over), batches of 2, 2 epochs
        self.assertEqual({name.split("/")[-1] for name in ranks[0]["local"]},
                         {"moving_mean:0", "moving_variance:0", "calls:0"})  # dropout counters
        trained = [key for key in ranks[0].files if key.startswith("arr_")]
        self.assertLen(trained, len(training.build(training.preset_with(
            "rugan_hexagonal_quick", filters=4)).trainable_weights))
        for key in trained:
            np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
