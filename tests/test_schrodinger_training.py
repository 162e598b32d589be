"""The Schrödinger CNN trainer: the thesis's network shape (7 reducing convolutions at 256,
5 after the 4 x 4 average of the CPU recipe), a short run on a generated dataset that learns,
scores in mHa and exports a model that reloads and predicts the same, and refusals of a
dataset of another class."""

import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import pipeline, potentials as potential_data, shards
from tfphys.errors import InputError
from tfphys.training import export
from tfphys.training import schrodinger_training as training


def _dataset(directory, kind, count, seed=0):
    writer = shards.ShardWriter(directory, {"kind": kind, "count": count, "grid": 256})
    writer.write(0, **potential_data.examples(kind, count, seed))
    return directory


class ModelTest(tf.test.TestCase):
    def test_thesis_and_cpu_networks(self):
        thesis = training.build(training.PRESETS["sho"])
        body = thesis.get_layer("schrodinger_cnn")
        reducing = [l for l in body.layers if l.name.startswith("reducing")]
        self.assertLen(reducing, 7)
        self.assertLen([l for l in body.layers if l.name.startswith("nonreducing")], 12)
        self.assertEqual(reducing[-1].output_shape[1:3], (2, 2))
        quick = training.build(training.PRESETS["sho_quick"])
        self.assertEqual(quick.input_shape, (None, 256, 256, 1))
        self.assertLen([l for l in quick.get_layer("schrodinger_cnn").layers
                        if l.name.startswith("reducing")], 5)
        with self.assertRaisesRegex(InputError, "does not divide"):
            training.build(training.preset_with("sho", downsample=3))

    def test_symmetries_keep_the_potential_values(self):
        x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
        ds = tf.data.Dataset.from_tensor_slices((x, np.zeros(1)))
        moved = [training.symmetries(ds, seed).get_single_element()[0].numpy()
                 for seed in range(12)]
        self.assertTrue(all(sorted(m.ravel()) == list(range(16)) for m in moved))
        self.assertGreater(len({m.tobytes() for m in moved}), 2)
        self.assertTrue(all(m[1:3, 1:3].sum() == x[0, 1:3, 1:3].sum() for m in moved))  # no roll


class FiguresTest(tf.test.TestCase):
    def test_errors_in_mha_by_hand(self):
        figures = training.figures(np.array([1.0, 1.002, 0.997]), np.ones(3),
                                   np.array([1.001, 1.002, 0.999]))
        self.assertAllClose([figures[k] for k in ("median_abs_error_mHa", "mean_abs_error_mHa",
                                                   "rotated_median_abs_error_mHa",
                                                   "rotation_change_mHa")],
                            [2.0, 5 / 3, 1.0, 1.0])
        self.assertEqual(figures["examples"], 3)


class TrainTest(tf.test.TestCase):
    def test_short_run_learns_scores_and_exports(self):
        data = _dataset(os.path.join(self.get_temp_dir(), "sho"), "sho", 45)
        path = os.path.join(self.get_temp_dir(), "model")
        preset = training.preset_with("sho_quick", epochs=3, batch_size=8)
        result = training.train_preset(preset, [data], export_dir=path, verbose=0)
        figures = result["figures"]
        self.assertEqual(figures["examples"] + result["examples"], 45)
        self.assertTrue(np.isfinite(figures["median_abs_error_mHa"]))
        self.assertGreaterEqual(figures["rotation_change_mHa"], 0.0)
        loaded = export.load(path)
        x, _ = next(iter(pipeline.shard_examples(data, "eps0", features="potential").batch(4)))
        self.assertAllClose(loaded(x), result["model"](x), atol=1e-6)
        self.assertEqual(export.metadata(path)["units"], "Ha")
        again, (predicted, true) = training.evaluate(loaded, export.metadata(path), data)
        self.assertAllClose(again, figures, rtol=1e-5)
        self.assertLen(predicted, figures["examples"])
        self.assertAllClose(true, [y for _, y in pipeline.shard_examples(
            data, "eps0", "test", features="potential").as_numpy_iterator()])
        plot = os.path.join(self.get_temp_dir(), "parity.png")
        for args, code, said in (([f"--data={data}", "--split=all", f"--plot={plot}"], 0,
                                  '"examples": 45'), ([], 2, "give --data DIR")):
            proc = testing.run_script("evaluate", f"--model={path}", *args)
            self.assertEqual(proc.returncode, code, proc.stderr[-2000:])
            self.assertIn(said, proc.stdout + proc.stderr)
        self.assertTrue(os.path.exists(plot))
        dig = _dataset(os.path.join(self.get_temp_dir(), "dig"), "dig", 2)
        with self.assertRaisesRegex(InputError, "holds dig potentials; preset sho_quick"):
            training.train_preset(preset, [dig])
        with self.assertRaisesRegex(InputError, "one class: give one --data"):
            training.train_preset(preset, [data, dig])
