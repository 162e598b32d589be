"""train_preset: the plain-function form of bin/train_*: figures returned, not printed."""

import os

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.training import export, spin_training


class TrainPresetTest(tf.test.TestCase):
    def test_returns_figures_exports_and_resumes(self):
        preset = spin_training.preset_with("ednn_quick", "ednn", train_examples=333,
                                           test_examples=41, batch_size=100, epochs=2, context=None)
        self.assertEqual((preset.train_examples, preset.context), (333, 1))
        run_dir, model_dir = (os.path.join(self.get_temp_dir(), n) for n in ("run", "model"))
        result = spin_training.train_preset(preset, run_dir=run_dir, export_dir=model_dir, seed=2,
                                            eval_L=12, verbose=0)
        self.assertEqual(result["examples"], "333 examples")
        self.assertEqual((result["split"], result["L"], result["figures"]["count"]), ("test", 8, 41))
        self.assertEqual(result["eval_figures"]["count"], 64)
        facts = export.metadata(result["export"])
        self.assertEqual((facts["preset"], facts["label"], facts["units"]), ("ednn_quick", "energy", "J"))
        s = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 8, 8)).astype(np.float32)
        self.assertEqual(export.load(model_dir)(s[..., None]).shape, (2, 1))
        again = spin_training.train_preset(preset, run_dir=run_dir, seed=2, verbose=0)
        self.assertLess(again["seconds"], result["seconds"])  # nothing left to train
        self.assertAllClose(again["figures"]["median_abs_error"],
                            result["figures"]["median_abs_error"], rtol=1e-6)

    def test_bad_overrides_and_combinations_are_input_errors(self):
        with self.assertRaisesRegex(InputError, "cannot override \\['L'\\]"):
            spin_training.preset_with("ednn_quick", L=16)
        with self.assertRaisesRegex(InputError, "unknown cnn preset"):
            spin_training.preset_with("ednn_quick", "cnn")
        with self.assertRaisesRegex(InputError, "--noaugment"):
            spin_training.train_preset(spin_training.preset_with("ising4_quick"), stream=True)
