"""Sheet energy training: a short EDNN run on a labelled sheet dataset scores in meV/A^2 and
exports a model that reloads and predicts the same; the EDNN is extensive (a 2 x 2 supercell
is predicted at exactly 4x the energy of its cell); the CNN baseline and refusals."""

import os

import numpy as np
import tensorflow as tf

from tfphys.data import sheets as sheet_data, shards
from tfphys.errors import InputError
from tfphys.physics.atoms import images, sheets
from tfphys.training import export
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
        sheet = sheets.hexagonal("hbn")
        cell = images.image(sheet, (256, 256))[None, ..., None]
        self.assertAllClose(loaded(cell), result["model"](cell), rtol=1e-5)
        supercell = images.image(sheet.repeat((2, 2, 1)), (512, 512))[None, ..., None]
        self.assertAllClose(loaded(supercell), 4 * loaded(cell), rtol=1e-4)
        self.assertEqual(export.metadata(path)["units"], "eV")

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
