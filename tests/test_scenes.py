"""Procedural RGB counting scenes: counts equal the objects painted, every object stays at
least half visible (partial, never full occlusion), all five backgrounds, seeding, and RGB
shards stream with three channels; other square sides with L_max scaled by the area."""

import os

import numpy as np
import tensorflow as tf

from tfphys.data import collages, pipeline, scenes, shards
from tfphys.errors import InputError


class SceneTest(tf.test.TestCase):
    def test_counts_visibility_and_backgrounds(self):
        spec = scenes.DATASETS["rd2"]
        made = scenes.examples(spec, 6, 4)
        self.assertEqual(made["image"].shape, (6, 256, 256, 3))
        for counts, objects in zip(made["counts"], made["objects"]):
            placed = objects[objects[:, 0] >= 0]
            self.assertAllEqual(np.bincount(placed[:, 0].astype(int), minlength=2), counts)
        self.assertAllEqual(scenes.examples(spec, 6, 4)["image"], made["image"])
        rng = np.random.default_rng(0)
        image, owner, areas = np.zeros((96, 96, 3)), np.full((96, 96), -1), []
        painted = [scenes._paint(rng, image, owner, areas, kind, 96)
                   for kind in ["duck", "ball"] * 10]
        self.assertGreater(sum(p is not None for p in painted), 3)
        visible = np.bincount(owner[owner >= 0], minlength=len(areas))
        self.assertTrue(np.all(visible >= scenes.VISIBLE * np.array(areas)))
        for scene in scenes.SCENES:
            picture = scenes.background(rng, scene, 64)
            self.assertEqual(picture.shape, (64, 64, 3))
            self.assertBetween(picture.min(), 0.0, 1.0)
            self.assertBetween(picture.max(), 0.0, 1.0)

    def test_rgb_shards_stream_with_three_channels(self):
        d = os.path.join(self.get_temp_dir(), "rd1")
        made = scenes.examples(scenes.DATASETS["rd1"], 3, 1, test_fraction=0.0)
        shards.ShardWriter(d, {"dataset": "rd1"}).write(0, **made)
        got = list(pipeline.shard_examples(d, "counts", "train", features="image")
                   .as_numpy_iterator())
        self.assertAllEqual(np.stack([x for x, _ in got]), made["image"].astype(np.float32))

    def test_square_sides_only_and_l_max_scaled_by_area(self):
        self.assertEqual(scenes.side("160"), 160)
        self.assertEqual(scenes.side("96x96"), 96)
        with self.assertRaisesRegex(InputError, "square: give --size SIDE, not 192x128"):
            scenes.side("192x128")
        with self.assertRaisesRegex(InputError, "below 56, the largest object's diameter"):
            scenes.side(48)
        spec = collages.at_size(scenes.DATASETS["rd1"], 160)  # 5 * (160 / 256)^2 = 1.95
        self.assertEqual(spec.l_max, 2)
        made = scenes.examples(spec, 8, 3, size=160)
        self.assertEqual(made["image"].shape, (8, 160, 160, 3))
        self.assertLessEqual(made["counts"].max(), 2)
        for objects in made["objects"]:  # every centre inside the frame
            placed = objects[objects[:, 0] >= 0]
            self.assertTrue(np.all((placed[:, 1:] >= 0) & (placed[:, 1:] < 160)))
