"""Schrödinger datasets: labels equal the solver on the stored float32 potentials, the SHA3
split, bin/generate_potentials resuming and healing to the same shards, and the one streaming
reader (tfphys.data.pipeline) serving potentials shard by shard."""

import json
import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import pipeline, shards, split
from tfphys.data import potentials as potential_data
from tfphys.physics.schrodinger import solver


def _generate(*args):
    return testing.run_script("generate_potentials", *args, timeout=600)


class ExamplesTest(tf.test.TestCase):
    def test_labels_are_the_solver_on_the_stored_potentials(self):
        data = potential_data.examples("iw", 3, seed=2, n=64)
        self.assertEqual(data["potential"].dtype, np.float32)
        found = solver.solve(data["potential"][1])
        self.assertAllClose([data["eps0"][1], data["eps1"][1], data["kinetic"][1]],
                            [found.eps0, found.eps1, found.kinetic])
        self.assertAllEqual(data["test"], split.is_test(data["potential"], 0.2))
        self.assertIn("param_Lx", data)


class GenerateTest(tf.test.TestCase):
    def test_resume_heal_stream_and_plot(self):
        out = os.path.join(self.get_temp_dir(), "sho")
        plot = os.path.join(self.get_temp_dir(), "sho.png")
        args = ["--kind=sho", "--count=7", "--shard_size=3", f"--out={out}", "--workers=2"]
        proc = _generate(*args, f"--plot={plot}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("7 potentials in 3 shard(s)", proc.stdout)
        self.assertGreater(os.path.getsize(plot), 10000)
        with open(os.path.join(out, shards.MANIFEST)) as handle:
            before = {e["file"]: e["sha256"] for e in json.load(handle)["shards"]}
        os.remove(os.path.join(out, "shard-00001.npz"))
        with open(os.path.join(out, "shard-00002.npz"), "r+b") as handle:
            handle.truncate(1000)
        proc = _generate(*args)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn("remaking 2 missing or corrupt shard(s)", proc.stdout)
        with open(os.path.join(out, shards.MANIFEST)) as handle:
            self.assertEqual({e["file"]: e["sha256"] for e in json.load(handle)["shards"]}, before)
        stored = shards.load(out)
        exact = 0.5 * (np.sqrt(stored["param_kx"]) + np.sqrt(stored["param_ky"]))
        self.assertLess(np.median(np.abs(stored["eps0"] - exact)), 1e-3)
        ds = pipeline.shard_examples(out, "eps0", features="potential")
        self.assertEqual(int(ds.cardinality()), 7)
        features, labels = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
        self.assertEqual(features[0].shape, (256, 256, 1))
        self.assertAllClose(np.stack(features)[..., 0], stored["potential"])
        self.assertAllClose(labels, stored["eps0"])
        train = pipeline.shard_examples(out, "eps0", "train", features="potential")
        self.assertEqual(int(train.cardinality()), int((~stored["test"]).sum()))
