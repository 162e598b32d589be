"""Sheet energy training: a short EDNN run on a labelled sheet dataset scores in meV/A^2 and
exports a model that reloads and predicts the same; the EDNN is extensive (a 2 x 2 supercell
is predicted at exactly 4x the energy of its cell), evaluates structure files, and as a Monte
Carlo energy re-evaluating only touched tiles equals the full model; the CNN baseline and
refusals."""

import dataclasses
import json
import os
import shutil

import ase.io
import numpy as np
import tensorflow as tf
from ase.calculators.singlepoint import SinglePointCalculator

from tfphys import testing
from tfphys.data import sheets as sheet_data, shards
from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.physics.atoms import images, labeller, metropolis, sheets
from tfphys.training import export, inference, operators
from tfphys.training import sheet_training as training


def _dataset(directory, count):
    writer = shards.ShardWriter(directory, {"kind": "hexagonal", "shape": [256, 256],
                                            "spacing": 0.05, "labeller": {"method": "GFN1-xTB"}})
    writer.write(0, **sheet_data.examples("hexagonal", count, seed=2))
    return directory


class SheetTrainingTest(tf.test.TestCase):
    def test_short_run_scores_exports_and_is_extensive(self):
        data = _dataset(os.path.join(self.get_temp_dir(), "hex"), 21)
        path = os.path.join(self.get_temp_dir(), "model")
        preset = training.preset_with("ednn_hexagonal_quick", epochs=2, batch_size=4)
        result = training.train_preset(preset, data, export_dir=path, verbose=0)
        figures = result["figures"]
        self.assertEqual(figures["examples"] + result["examples"], 21)
        self.assertTrue(np.isfinite(figures["median_abs_error_meV_per_A2"]))
        loaded = export.load(path)
        brain = ednn.brain_of(loaded.get_layer("sheet_ednn"))  # the preset normalizes features
        self.assertIn("BatchNormalization", [type(layer).__name__ for layer in brain.layers])
        sheet = sheets.hexagonal("hbn")
        cell = images.image(sheet, (256, 256))[None, ..., None]
        self.assertAllClose(loaded(cell), result["model"](cell), rtol=1e-5)
        supercell = images.image(sheet.repeat((2, 2, 1)), (512, 512))[None, ..., None]
        self.assertAllClose(loaded(supercell), 4 * loaded(cell), rtol=1e-4)
        self.assertEqual(export.metadata(path)["units"], "eV")
        # the EDNN as a Monte Carlo energy: only touched tiles re-evaluated, equal to the whole
        facts = export.metadata(path)
        engine = metropolis.PositionMetropolis(sheet, operators.SheetEnergy(loaded, facts, sheet),
                                               step=0.3, seed=0)
        trace = engine.run([20.0, 20.0])
        moved = sheet.copy()
        moved.positions = engine.spins[0]
        self.assertAllClose(trace.energy[0, -1], loaded(images.image(moved, (256, 256))[
            None, ..., None]).numpy()[0, 0], rtol=1e-5)
        self.assertGreater(np.abs(moved.positions - sheet.positions).max(), 0.01)
        # bin/evaluate_structure: any cell size, the labeller's scale, the stored energy's error
        big = sheet.repeat((2, 2, 1))
        big.calc = SinglePointCalculator(big, energy=-15000.0)
        files = os.path.join(self.get_temp_dir(), "cells.extxyz")
        ase.io.write(files, [sheet, big])
        plot = os.path.join(self.get_temp_dir(), "tiles.png")
        proc = testing.run_script("evaluate_structure", f"--model={path}",
                                  f"--structures={files}", f"--plot={plot}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        lines = [json.loads(l.split(": ", 1)[1]) for l in proc.stdout.splitlines()
                 if l[0].isdigit()]
        self.assertEqual([l["image"] for l in lines], ["256x256", "512x512"])
        self.assertAllClose(lines[1]["cohesive_energy_eV"], 4 * lines[0]["cohesive_energy_eV"],
                            rtol=1e-4)
        self.assertAllClose(lines[1]["error_meV_per_A2"], 1000 * abs(
            lines[1]["energy_eV"] + 15000.0) / images.area(big), rtol=1e-4)
        self.assertTrue(os.path.exists(plot))
        proc = testing.run_script("evaluate_structure", f"--model={path}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("give --structures", proc.stderr)
        # bin/generate_sheets --energy_model: the model's energies, as sheet_energy gives them
        # for the stored structures, on the labeller's scale (plus its free atoms)
        labelled = os.path.join(self.get_temp_dir(), "labelled")
        proc = testing.run_script("generate_sheets", "--count=3", "--shard_size=2",
                                  f"--energy_model={path}", f"--out={labelled}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        stored = shards.load(labelled)
        source = shards.read_manifest(labelled)["metadata"]["labeller"]
        self.assertEqual((source["method"], source["learnt"]["method"]),
                         ("sheet model ednn_hexagonal_quick", "GFN1-xTB"))
        for k in range(3):
            atoms = sheet_data.stored_sheet(stored, k)
            self.assertAllClose(stored["cohesive_energy"][k],
                                inference.sheet_energy(loaded, facts, atoms), rtol=1e-5)
            self.assertAllClose(stored["energy"][k] - stored["cohesive_energy"][k],
                                labeller.free_atoms(atoms, "gfn1"))
        self.assertTrue(np.isnan(stored["temperature"]).all())
        proc = testing.run_script("generate_sheets", "--count=1", "--calculator=gfn2",
                                  f"--energy_model={path}", f"--out={labelled}2")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("exclude each other", proc.stderr)
        with self.assertRaisesRegex(InputError, "trained on 256x256 images, these sheets make"):
            training.labelling(path, sheet_data.SHAPES["porous"])

    def test_the_reference_is_the_least_squares_fit_on_pixel_sums_and_stays_extensive(self):
        data = _dataset(os.path.join(self.get_temp_dir(), "hex"), 13)
        image, label, test = shards.fields(data, ["image", training.LABEL, "test"])
        sums = image[~test].astype(np.float64).sum(axis=(1, 2))
        slope, intercept = np.polyfit(sums, label[~test], 1)
        weights, fitted, spread = training.reference_fit(data, downsample=4)
        self.assertAllClose((weights[0] / 16, fitted), (slope, intercept), rtol=1e-6)  # 4x4 means
        self.assertAllClose(spread, np.std(label[~test] - slope * sums - intercept), rtol=1e-6)
        # without batch normalization: its moving statistics follow any further training,
        # even at a vanishing rate, and this test continues runs from exports at one
        preset = training.preset_with("ednn_hexagonal_quick", reference=True, moments=1,
                                      normalize=False, epochs=1, batch_size=3)
        model = training.build(preset, (256, 256), fitted, spread, weights)
        self.assertAllClose(model(image[..., None])[:, 0], slope * image.astype(
            np.float64).sum(axis=(1, 2)) + fitted, rtol=1e-5)  # it starts at the fit exactly
        path = os.path.join(self.get_temp_dir(), "model")
        result = training.train_preset(preset, data, export_dir=path, verbose=0)
        loaded = export.load(path)
        cell = image[:1, ..., None]
        self.assertAllClose(loaded(cell), result["model"](cell), rtol=1e-5)
        self.assertAllClose(loaded(np.tile(cell, (1, 2, 2, 1))), 4 * loaded(cell), rtol=1e-4)
        older = os.path.join(self.get_temp_dir(), "older")  # made before `moments` existed
        shutil.copytree(path, older)
        facts = export.metadata(older)
        del facts["settings"]["moments"]
        with open(os.path.join(older, export.MARKER), "w") as handle:
            json.dump(facts, handle)
        # --init goes on from the export (a vanishing rate leaves it where it was), on its own
        # data or on another set whose energies spread otherwise, and from the older export
        # (its absent key meant 1) ...
        other = _dataset(os.path.join(self.get_temp_dir(), "other"), 7)
        for where, start in ((data, path), (other, path), (data, older)):
            still = training.train_preset(dataclasses.replace(preset, learning_rate=1e-12),
                                          where, init=start, verbose=0)["model"]
            self.assertAllClose(still(cell), loaded(cell), rtol=1e-6)
        # ... and refuses one whose channels or tiling differ
        for start in (path, older):
            with self.assertRaisesRegex(InputError, "--init .* was trained with .*'moments': "
                                        "1.*, this run uses .*'moments': 3"):
                training.train_preset(dataclasses.replace(preset, moments=3), data, init=start)

    def test_three_moments_give_one_reference_energy_per_species(self):
        # labels that are sums of per-species energies: V's pixel sum alone cannot fit them
        # (hBN's mean Z is graphene's 6), V, V^2 and V^3 fit them exactly, on the test sheets
        # too; B, C, N at random on graphene's sites, with vacancies (one cell: one pixel area)
        rng, made = np.random.default_rng(4), []
        for _ in range(16):
            sheet = sheets.hexagonal("graphene")
            sheet.numbers = rng.choice([5, 6, 7], len(sheet), p=rng.dirichlet([1, 1, 1]))
            del sheet[rng.choice(len(sheet), rng.integers(4), replace=False).tolist()]
            made.append(sheet)
        per_species = {5: -6.1, 6: -7.4, 7: -8.3}
        label = np.array([sum(per_species[z] for z in sheet.numbers) for sheet in made])
        pictures = images.images(made, (256, 256))
        data = os.path.join(self.get_temp_dir(), "species")
        shards.ShardWriter(data, {"kind": "hexagonal", "shape": [256, 256]}).write(
            0, image=pictures, cohesive_energy=label, test=np.arange(16) % 4 == 0)
        self.assertGreater(training.reference_fit(data, 4, 1)[2], 1.0)
        weights, intercept, spread = training.reference_fit(data, 4, 3)
        self.assertLess(spread, 0.01)
        preset = training.preset_with("ednn_hexagonal_quick", reference=True, moments=3)
        model = training.build(preset, (256, 256), intercept, spread, weights)
        predicted = model(pictures[..., None]).numpy()[:, 0]
        self.assertAllClose(predicted, label, atol=0.05)
        trained = [v.name for v in model.trainable_variables if "reference" in v.name]
        self.assertEmpty(trained)  # fixed after the fit unless asked
        self.assertLen([v for v in training.build(dataclasses.replace(
            preset, train_reference=True), (256, 256), intercept, spread, weights)
            .trainable_variables if "reference" in v.name], 1)
        # the code that feeds the body directly pools the same moments as the model's layers
        facts = {"preset": preset.name, "settings": dataclasses.asdict(preset),
                 "spacing": 0.05, "shape": [256, 256]}
        sheet = made[1]
        self.assertAllClose(inference.sheet_energy(model, facts, sheet, slab_rows=72),
                            predicted[1], rtol=1e-5)
        self.assertAllClose(training.energy_map(model)(pictures[1:2, ..., None]).numpy().sum(),
                            predicted[1], rtol=1e-5)
        energy = operators.SheetEnergy(model, facts, sheet)
        self.assertAllClose(energy.reset(sheet.positions), predicted[1], rtol=1e-5)
        moved = sheet.copy()
        moved.positions[3] += (0.4, -0.3, 0.0)
        self.assertAllClose(energy.trial(3, moved.positions[3]), model(images.image(
            moved, (256, 256))[None, ..., None]).numpy()[0, 0], rtol=1e-5)

    def test_cnn_baseline_and_refusals(self):
        preset = training.PRESETS["cnn_hexagonal"]
        model = training.build(preset, (256, 256), -500.0, 10.0)
        self.assertLen([l for l in model.get_layer("sheet_cnn").layers
                        if l.name.startswith("reducing")], 7)
        with self.assertRaisesRegex(InputError, "power-of-two side"):
            training.build(preset, (256, 250), 0.0, 1.0)
        with self.assertRaisesRegex(InputError, "not a multiple of downsample x focus = 64"):
            training.build(training.PRESETS["ednn_hexagonal_quick"], (256, 250), 0.0, 1.0)
        with self.assertRaisesRegex(InputError, "give --data DIR"):
            training.train_preset(preset, None)
        with self.assertRaisesRegex(InputError, "drop --reference"):
            training.train_preset(training.preset_with("cnn_hexagonal_quick", reference=True),
                                  None)
        # a porous set made without images (bin/generate_sheets --noimages) feeds the sheet
        # RUGAN only: training a sheet network on it is one line
        bare = os.path.join(self.get_temp_dir(), "bare")
        writer = shards.ShardWriter(bare, {"kind": "porous", "images": False})
        writer.write(0, **sheet_data.examples("porous", 2, seed=1, keep_images=False,
                                              energy_model=lambda p: -p.sum(axis=(1, 2))))
        with self.assertRaisesRegex(InputError, "holds no images .* without --noimages"):
            training.train_preset(training.PRESETS["ednn_porous_quick"], bare)
