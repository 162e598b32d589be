"""The counting EDNN: a hand-made tile network counts solid blocks exactly on collages of any
size and its density map sums to the count; a short run on generated shards scores per class,
exports a model that reloads and predicts the same, and its density map sums to its count."""

import dataclasses
import json
import os
import re

import numpy as np
import tensorflow as tf
from PIL import Image

from tfphys import testing
from tfphys.data import collages, mnist, scenes, shards
from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.models.ednn_sliding import sliding
from tfphys.training import counting_training as training
from tfphys.training import export, fit

DIGITS = training.reach("mnist1", 8)  # 2 f: half a digit plus half a tile


def hand_made_counter(focus, context, mass):
    """A tile network adding up its focus pixels / the mass of one block: exact counts."""
    size = focus + 2 * context
    weights = np.zeros((size, size, 1, 1), np.float32)
    weights[context:context + focus, context:context + focus] = 1.0 / mass
    inputs = tf.keras.Input((size, size, 1))
    dense = tf.keras.layers.Dense(1, use_bias=False)
    brain = tf.keras.Model(inputs, dense(tf.keras.layers.Flatten()(inputs)))
    dense.set_weights([weights.reshape(-1, 1)])
    return ednn.ednn(brain, focus, context, padding="zeros")


def mnist_shards(directory, name, count):
    """`directory` holding `count` collages of the MNIST counting set `name` in one shard (30 %
    test), stored as bin/generate_counting stores them."""
    spec = collages.DATASETS[name]
    images, labels, _ = mnist.digits()
    shards.ShardWriter(directory, {"dataset": name, "classes": list(spec.classes),
                                   "count": count}).write(
        0, **collages.examples(spec, count, 0, collages.pools(images, labels, spec.classes), 0.3))
    return directory


class CountingTest(tf.test.TestCase):
    def test_hand_made_tile_network_counts_exactly(self):
        square = np.zeros((4, 12, 12), np.uint8)
        square[:, 1:11, 1:11] = 200
        pool = {"train": [square], "test": [square]}
        counter = sliding(hand_made_counter(8, 8, 100 * 200.0))
        for size in (64, 256):
            made = collages.examples(collages.CollageSet("blocks", (0,), 12), 5, size, pool,
                                     size=size)
            x = made["image"][..., None].astype(np.float32)
            self.assertAllClose(counter(x), made["counts"], atol=1e-3)
            grid = ednn.contributions(counter)(x).numpy()
            self.assertAllClose(grid.sum(axis=(1, 2)), made["counts"], atol=1e-3)
            for one, objects in zip(grid, made["objects"]):  # the exact counter localizes all
                found, total = training.localization(one, objects, 8, DIGITS)
                self.assertEqual(found, total)
        grid = np.zeros((4, 4, 2), np.float32)
        grid[0, 0, 0], grid[0, 1, 0], grid[3, 3, 0] = 0.5, 0.5, 0.4  # one split object, a faint one
        grid[2, 2, 1] = 1.0  # a class-1 blob with no object in it
        objects = np.array([[0, 3, 5], [0, 30, 30], [1, 12, 3], [-1, -1, -1]], np.float32)
        self.assertEqual(training.localization(grid, objects, 8, DIGITS), (1, 3))
        pulled = np.zeros((4, 4, 1), np.float32)
        pulled[0, 0, 0] = 2.0  # two neighbours' mass on one of them: neither is localized
        pair = np.array([[0, 4, 4], [0, 4, 20]], np.float32)
        self.assertEqual(training.localization(pulled, pair, 8, DIGITS), (0, 2))
        pulled[0, 0, 0], pulled[0, 2, 0] = 1.0, 1.0
        self.assertEqual(training.localization(pulled, pair, 8, DIGITS), (2, 2))

    def test_shift_averaged_count_is_translation_invariant_and_exact_where_the_plain_is(self):
        rng = np.random.default_rng(0)
        model = training.build(training.preset_with("counting_quick"), 1, 2)  # random weights
        images = np.zeros((3, 61, 70, 1), np.float32)  # sides not multiples of f = 8
        images[:, 20:34, 24:40] = rng.integers(0, 256, (3, 14, 16, 1))
        moved = np.roll(images, (2, 4), axis=(1, 2))  # by f / 4 down, f / 2 right
        plain = training.count(model, images, 8)
        self.assertAllClose(plain, model(np.pad(images, ((0, 0), (0, 3), (0, 2), (0, 0)))))
        self.assertNotAllClose(plain, training.count(model, moved, 8), atol=1e-4)
        self.assertAllClose(training.count(model, images, 8, shifts=4),
                            training.count(model, moved, 8, shifts=4), atol=1e-4)
        square = np.zeros((2, 40, 40, 1), np.float32)
        square[:, 5:15, 9:19] = 200
        counter = sliding(hand_made_counter(8, 8, 100 * 200.0))
        for shifts in (1, 2, 8):
            self.assertAllClose(training.count(counter, square, 8, shifts, batch_size=1),
                                np.ones((2, 1)), atol=1e-4)
        for bad in (0, 3):
            with self.assertRaisesRegex(InputError, "shifts must divide the focus f = 8"):
                training.count(counter, square, 8, bad)
        # turns = 4: the mean over the four quarter turns, so a turned image counts the same
        turned = [training.count(model, np.rot90(images, k, axes=(1, 2)).copy(), 8, 2)
                  for k in range(4)]
        averaged = training.count(model, images, 8, 2, turns=4)
        self.assertAllClose(averaged, np.mean(turned, axis=0), atol=1e-4)
        self.assertAllClose(training.count(model, np.rot90(images, 1, axes=(1, 2)).copy(), 8, 2,
                                           batch_size=2, turns=4), averaged, atol=1e-4)
        with self.assertRaisesRegex(InputError, "turns must be 1 .plain. or 4"):
            training.count(counter, square, 8, turns=2)
        # checked before any work: shifts dividing the focus, and turns = 4 only for an export
        # trained with --rotate (its tfphys.json settings)
        training.check_averaging({"focus": 8, "settings": {"rotate": True}}, 2, 4, "m")
        for facts in ({"focus": 8, "settings": {"rotate": False}}, {"focus": 8}):
            training.check_averaging(facts, 8, 1, "m")
            with self.assertRaisesRegex(InputError, "--turns 4 .* m was trained without --rotate"):
                training.check_averaging(facts, 1, 4, "m")
        with self.assertRaisesRegex(InputError, r"shifts must divide the focus f = 8 \(1, 2, 4, 8"):
            training.check_averaging({"focus": 8}, 3, 1, "m")

    def test_figures_score_rounded_counts_per_class_and_the_mse(self):
        predicted = np.array([[1.4, 2.0], [0.6, 3.4], [2.0, 0.0]])
        true = np.array([[1.0, 2.0], [1.0, 4.0], [2.0, 1.0]])
        figures = training.figures(predicted, true, ["4", "8"])
        self.assertEqual(figures["examples"], 3)
        self.assertAllClose([figures["accuracy_4"], figures["accuracy_8"]], [1.0, 1 / 3])
        self.assertAllClose([figures["median_abs_error_4"], figures["median_abs_error_8"]],
                            [0.4, 0.6])
        self.assertAllClose(figures["mse"], (0.16 + 0.16 + 0.36 + 1.0) / 6)

    def test_accuracy_by_count_splits_the_exact_share_by_the_true_count(self):
        predicted = np.array([[1.4, 2.0], [0.6, 3.4], [2.0, 0.0], [1.6, 4.2]])
        true = np.array([[1.0, 2.0], [1.0, 4.0], [2.0, 1.0], [1.0, 4.0]])
        self.assertEqual(training.accuracy_by_count(predicted, true, ["4", "8"]),
                         {"4": {1: 2 / 3, 2: 1.0}, "8": {1: 0.0, 2: 1.0, 4: 0.5}})

    def test_a_large_ducks_mass_is_localized_within_the_scenes_reach(self):
        # one object of the largest radius: its mass spread evenly over the tiles within it
        centres = 8 * (np.arange(10) + 0.5)
        inside = np.hypot(*np.meshgrid(centres - 40, centres - 40, indexing="ij")) <= \
            scenes.RADIUS[1]
        grid = (inside / inside.sum())[..., None].astype(np.float32)
        duck = np.array([[0, 40, 40]], np.float32)
        self.assertEqual(training.localization(grid, duck, 8, DIGITS), (0, 1))  # the digits' 2 f
        self.assertEqual(training.reach("mnist2", 8), 16)
        self.assertEqual(training.localization(grid, duck, 8, training.reach("rd1", 8)), (1, 1))

    def test_short_run_scores_exports_and_maps_density(self):
        d = mnist_shards(os.path.join(self.get_temp_dir(), "mnist2"), "mnist2", 21)
        path = os.path.join(self.get_temp_dir(), "model")
        preset = training.preset_with("counting_quick", epochs=2, batch_size=4, rotate=True)
        result = training.train_preset(preset, d, export_dir=path, verbose=0)
        self.assertEqual(result["classes"], ["4", "8"])
        self.assertEqual(result["figures"]["examples"] + result["examples"], 21)
        self.assertBetween(result["figures"]["accuracy_8"], 0.0, 1.0)
        self.assertBetween(result["figures"]["localized"], 0.0, 1.0)
        loaded = export.load(path)
        x = np.random.default_rng(0).integers(0, 256, (2, 64, 48, 1)).astype(np.float32)
        self.assertAllClose(loaded(x), result["model"](x), rtol=1e-5, atol=1e-5)
        grid = training.density(loaded)(x)
        self.assertEqual(grid.shape, (2, 8, 6, 2))
        self.assertAllClose(tf.reduce_sum(grid, [1, 2]), loaded(x), rtol=1e-5, atol=1e-4)
        # bin/count: any size (61 x 45 zero-padded), shifts and turns, density maps, bad input
        picture = np.random.default_rng(1).integers(0, 256, (45, 61)).astype(np.uint8)
        png, jpeg = (os.path.join(self.get_temp_dir(), f"odd.{e}") for e in ("png", "jpg"))
        Image.fromarray(picture).save(png)
        Image.fromarray(picture).save(jpeg)
        plots = os.path.join(self.get_temp_dir(), "maps")
        count = lambda *args: testing.run_script("count", f"--model={path}", *args)  # noqa: E731
        proc = count(f"--images={png}", f"--plot={plots}", "--shifts=2", "--turns=4")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        want = training.count(loaded, picture[None, ..., None].astype(np.float32), 8, 2,
                              turns=4)[0]
        self.assertIn(f'(61x45): {{"4": {round(float(want[0]), 3)}', proc.stdout)
        self.assertTrue(os.path.exists(os.path.join(plots, "odd_density.png")))
        proc = count(f"--images={png}", f"--plot={plots}")  # the map's sum
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        printed = json.loads(proc.stdout.split("(61x45): ")[1].splitlines()[0])
        want = training.count(loaded, picture[None, ..., None].astype(np.float32), 8)[0]
        self.assertAllClose([printed["4"], printed["8"]], want, atol=1e-3)  # 3 decimals printed
        proc = count(f"--images={jpeg}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("is a JPEG image; give PNG images", proc.stderr)
        proc = count(f"--images={png}", f"--plot={png}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn(f"--plot {png} is an existing file; give a folder", proc.stderr)
        # --data: the test split scored as training scored it (the export, not the run's model)
        proc = count(f"--data={d}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        scored = json.loads(proc.stdout.split(f"{d}, test split: ")[1].splitlines()[0])
        self.assertCountEqual(scored, result["figures"])
        self.assertAllClose([scored[k] for k in sorted(scored)],
                            [result["figures"][k] for k in sorted(scored)], atol=1e-4)
        ones = mnist_shards(os.path.join(self.get_temp_dir(), "ones"), "mnist1", 3)
        proc = count(f"--data={ones}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn(f"count: error: {ones} counts ['5'] in 1-channel images, but {path} counts "
                      "['4', '8'] in 1", proc.stderr)
        # benchmarks/counting_scale.py --misses: each wrong image listed and written as a PNG
        missed = os.path.join(self.get_temp_dir(), "missed")
        proc = testing.run_script("counting_scale.py", f"--model={path}", "--dataset=mnist2",
                                  "--count=3", "--size=64", f"--misses={missed}",
                                  folder="benchmarks")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        listed = re.findall(r"miss (\S+): true (\[.*?\]), read (\[.*?\])", proc.stdout)
        self.assertNotEmpty(listed)  # two epochs on 21 collages miss some of 256x256's crowds
        self.assertCountEqual(os.listdir(missed), [os.path.basename(f) for f, _, _ in listed])
        for file, true, read in listed:
            side = int(os.path.basename(file).split("x")[0])
            self.assertEqual(np.asarray(Image.open(file)).shape, (side, side))
            self.assertNotAllEqual(np.round(json.loads(read)), json.loads(true))
        proc = count(f"--images={png}", "--shifts=3")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("count: error: shifts must divide the focus f = 8 (1, 2, 4, 8)", proc.stderr)
        for context in (4, 12):  # fewer convolutions; a window that cannot be centred
            with self.assertRaisesRegex(InputError, f"--init .* has context 8; --context "
                                        f"{context} must be that plus a multiple of its tile "
                                        "CNN's stride 8 that keeps its 3 convolutions "
                                        r"\(e.g. 16\)"):
                training.train_preset(dataclasses.replace(preset, context=context), d, init=path)
        # a wider last convolution starts from the export's counts (new weights in, zero out)
        wide = training.build(dataclasses.replace(preset, width=80), 1, 2)
        fit.start_from(wide, path, loaded.weights, widens=True)
        self.assertAllClose(wide(x), loaded(x), rtol=1e-5, atol=1e-5)
        kernel = wide.get_layer("counting_ednn_sliding").get_layer("conv_2").kernel
        self.assertEqual(kernel.shape, (4, 4, 64, 80))
        self.assertGreater(float(tf.reduce_max(tf.abs(kernel[..., 64:]))), 0.0)
        with self.assertRaisesRegex(InputError, "does not fit this model"):
            fit.start_from(wide, path, loaded.weights)  # only when asked to widen
        # a context larger by the stride: the dense layer reads 3 x 3 features, the old middle
        far = training.build(dataclasses.replace(preset, context=16, width=80), 1, 2)
        fit.start_from(far, path, loaded.weights, widens=True)
        self.assertAllClose(far(x), loaded(x), rtol=1e-5, atol=1e-5)
        window = far.get_layer("counting_ednn_sliding").get_layer("dense_slide").kernel
        self.assertEqual(window.shape, (3, 3, 80, 1024))
        self.assertEqual(float(tf.reduce_max(tf.abs(window[0]))), 0.0)
        result = training.train_preset(dataclasses.replace(preset, context=16, width=80,
                                                           epochs=1), d, init=path, verbose=0)
        self.assertEqual(result["model"].count_params(), far.count_params())
        wide_path = os.path.join(self.get_temp_dir(), "wide")
        export.export(wide, wide_path, {"kind": "counting_ednn", "classes": ["4", "8"],
                                        "focus": 8, "settings": {"focus": 8, "context": 8,
                                                                 "width": 80}})
        with self.assertRaisesRegex(InputError, "has width 80; --width 64 would drop its "
                                    "features: pass --width 80 or more"):
            training.train_preset(preset, d, init=wide_path)
        far_path = os.path.join(self.get_temp_dir(), "far")  # c = 16 grows no further
        export.export(far, far_path, {"kind": "counting_ednn", "classes": ["4", "8"],
                                      "focus": 8, "settings": {"focus": 8, "context": 16,
                                                               "width": 80}})
        with self.assertRaisesRegex(InputError, r"keeps its 3 convolutions \(only 16 does: at 24 "
                                    r"the tile needs 4\)"):
            training.train_preset(dataclasses.replace(preset, context=24, width=80), d,
                                  init=far_path)
        other = os.path.join(self.get_temp_dir(), "other")
        shards.ShardWriter(other, {"kind": "sho"}).write(
            0, potential=np.zeros((1, 4, 4)), eps0=np.zeros(1), test=np.zeros(1, bool))
        with self.assertRaisesRegex(InputError, "is not a counting dataset"):
            training.train_preset(preset, other)

    def test_a_bfloat16_run_exports_a_float32_model(self):
        d = mnist_shards(os.path.join(self.get_temp_dir(), "mnist1"), "mnist1", 9)
        path = os.path.join(self.get_temp_dir(), "model")
        preset = training.preset_with("counting_quick", epochs=1, batch_size=3,
                                      precision="mixed_bfloat16")
        result = training.train_preset(preset, d, export_dir=path, verbose=0)
        loaded = export.load(path)
        self.assertEqual({layer.compute_dtype for layer in
                          loaded.get_layer("counting_ednn_sliding").layers}, {"float32"})
        x = np.random.default_rng(0).integers(0, 256, (2, 40, 56, 1)).astype(np.float32)
        self.assertAllClose(loaded(x), result["model"](x), rtol=1e-5, atol=1e-5)
        self.assertEqual(json.load(open(os.path.join(path, export.MARKER)))["settings"]
                         ["precision"], "mixed_bfloat16")

    def test_rotation_is_refused_where_it_turns_one_class_into_another(self):
        d = mnist_shards(os.path.join(self.get_temp_dir(), "mnist10"), "mnist10", 3)
        preset = training.preset_with("counting_quick", epochs=1, batch_size=2, rotate=True)
        with self.assertRaisesRegex(InputError, "--rotate turns a 6 into a 9 .* train without"):
            training.train_preset(preset, d, verbose=0)
