"""Datasets: SHA3 split, shard format and its failure modes, tf.data pipelines, generate_spins."""

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import pipeline, shards, spins, split
from tfphys.errors import InputError
from tfphys.physics.spins import ising, longrange


class SplitTest(tf.test.TestCase):
    def test_bucket_is_the_top_12_bits_of_sha3_512(self):
        config = np.array([[1, -1], [-1, 1]], np.int8)
        digest = hashlib.sha3_512(config.tobytes()).hexdigest()
        self.assertEqual(split.hash_bucket(config[None])[0], int(digest[:3], 16))
        self.assertEqual(split.hash_bucket(config[None].astype(np.float32))[0], int(digest[:3], 16))

    def test_no_test_configuration_is_in_the_training_set(self):
        data = spins.generate(spins.SpinSource("ising", 4), "targeted", 6000, seed=0)
        flat = data["spins"].reshape(len(data["spins"]), -1)
        train = {row.tobytes() for row in flat[~data["test"]]}
        test = {row.tobytes() for row in flat[data["test"]]}
        self.assertNotEmpty(test)
        self.assertEmpty(train & test)
        self.assertGreater(len(flat), len(train) + len(test))  # targeted sampling repeats configs

    def test_buckets_are_uniform_and_the_fraction_holds(self):
        every = ising.all_configurations(4)
        counts = np.bincount(split.hash_bucket(every) >> 8, minlength=16)  # 16 coarse buckets
        expected = len(every) / 16
        chi2 = ((counts - expected) ** 2 / expected).sum()
        self.assertLess(chi2, 37.7)  # chi-square, 15 degrees of freedom, p = 0.001
        self.assertAllClose(split.is_test(every, 0.25).mean(), 0.25, atol=0.01)


class ShardsTest(tf.test.TestCase):
    def _write(self, directory, n_shards=3, size=50):
        writer = shards.ShardWriter(directory, {"what": "test"})
        rng = np.random.default_rng(0)
        for k in range(n_shards):
            s = rng.choice(np.array([-1, 1], np.int8), size=(size, 4, 4))
            writer.write(k, spins=s, energy=ising.energy(s), test=split.is_test(s))
        return writer

    def test_round_trip_and_resume(self):
        d = self.get_temp_dir() + "/roundtrip"
        self._write(d)
        again = shards.ShardWriter(d, {"what": "test"})
        self.assertEqual((again.n_shards, again.count), (3, 150))
        data = shards.load(d)
        self.assertEqual(data["spins"].shape, (150, 4, 4))
        self.assertAllEqual(data["energy"], ising.energy(data["spins"]))
        self.assertEqual(sorted(os.listdir(d)), [shards.MANIFEST] + [f"shard-0000{i}.npz" for i in range(3)])
        with self.assertRaisesRegex(InputError, "other settings"):
            shards.ShardWriter(d, {"what": "else"})

    def test_truncated_corrupt_and_missing_shards_are_named(self):
        d = self.get_temp_dir() + "/broken"
        self._write(d)
        path = os.path.join(d, "shard-00001.npz")
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)
        with self.assertRaisesRegex(InputError, "shard-00001.npz is truncated or corrupt"):
            shards.load(d)
        with self.assertRaisesRegex(InputError, "shard-00001.npz cannot be read"):
            shards.load(d, verify=False)
        os.remove(path)
        with self.assertRaisesRegex(InputError, "shard-00001.npz listed in the manifest is missing"):
            shards.load(d)
        with self.assertRaisesRegex(InputError, "manifest.json is missing"):
            shards.load(self.get_temp_dir() + "/nothing")

    def test_manifests_that_point_outside_the_dataset_or_lack_shards_are_refused(self):
        d = self.get_temp_dir() + "/hostile"
        self._write(d, n_shards=1)
        path = os.path.join(d, shards.MANIFEST)
        with open(path) as handle:
            manifest = json.load(handle)
        for bad in ("../outside.npz", "/etc/passwd", "sub/shard-00000.npz"):
            manifest["shards"][0]["file"] = bad
            with open(path, "w") as handle:
                json.dump(manifest, handle)
            with self.assertRaisesRegex(InputError, "malformed shard entry"):
                shards.load(d)
        for text in ("[]", json.dumps({"format": shards.FORMAT}), "{not json"):
            with open(path, "w") as handle:
                handle.write(text)
            with self.assertRaisesRegex(InputError, "regenerate the dataset"):
                shards.read_manifest(d)

    def test_mismatched_fields_are_refused(self):
        writer = shards.ShardWriter(self.get_temp_dir() + "/fields", {})
        writer.write(0, spins=np.ones((2, 4, 4), np.int8), energy=np.zeros(2))
        with self.assertRaisesRegex(InputError, "differ"):
            writer.write(1, spins=np.ones((2, 8, 8), np.int8), energy=np.zeros(2))
        with self.assertRaisesRegex(InputError, "different lengths"):
            writer.write(1, spins=np.ones((2, 4, 4), np.int8), energy=np.zeros(3))


class PipelineTest(tf.test.TestCase):
    def test_from_shards_splits_upscales_and_keeps_labels_exact(self):
        d = self.get_temp_dir() + "/pipe"
        writer = shards.ShardWriter(d, {})
        for k in range(3):
            writer.write(k, **spins.generate(spins.SpinSource("ising", 4), "uniform", 200, seed=k))
        everything = shards.load(d)
        seen = {}
        for which in ("train", "test"):
            xs, ys = [], []
            for x, y in pipeline.from_shards(d, 64, split=which, upscale_to=16, seed=1):
                xs.append(x.numpy())
                ys.append(y.numpy())
            x, y = np.concatenate(xs), np.concatenate(ys)
            self.assertEqual(x.shape[1:], (16, 16, 1))
            small = x[:, ::4, ::4, 0]
            self.assertAllEqual(ising.energy(small), y)
            seen[which] = len(x)
        self.assertEqual(seen["test"], int(everything["test"].sum()))
        self.assertEqual(seen["train"] + seen["test"], 600)
        with self.assertRaisesRegex(InputError, "need 'spins' and 'nope'"):
            pipeline.from_shards(d, 8, label="nope")
        # several label fields at once: a tuple of arrays, one shard at a time
        parts = list(pipeline.shard_arrays(d, ("energy", "test"), "test"))
        self.assertLen(parts, 3)
        for s, (e, marked) in parts:
            self.assertAllEqual(ising.energy(s), e)
            self.assertTrue(np.all(marked))
        self.assertEqual(sum(len(s) for s, _ in parts), seen["test"])
        with self.assertRaisesRegex(InputError, "need 'spins' and 'energy' and 'nope'"):
            next(pipeline.shard_arrays(d, ("energy", "nope")))

    def test_stream_generates_labelled_batches(self):
        source = spins.SpinSource("screened_coulomb", 4, screening=0.5)
        x, y = next(iter(pipeline.stream(source, 16, seed=0)))
        self.assertEqual(x.shape, (16, 4, 4, 1))
        self.assertAllClose(y, longrange.explicit_energy(x.numpy()[..., 0], screening=0.5))
        x, y = next(iter(pipeline.stream(spins.SpinSource("ising", 8), 8, "thermal", seed=0,
                                         temperature=1.0, n_equilibrate=500)))
        self.assertLess(float(tf.reduce_mean(y)), -100)  # deep in the ordered phase


    def test_symmetries_keep_energies_and_cover_the_lattice_group(self):
        s = np.random.default_rng(0).choice([-1.0, 1.0], size=(300, 4, 4)).astype(np.float32)
        x = np.repeat(np.repeat(s, 4, axis=1), 4, axis=2)[..., None]  # 16x16, one 4x4 block a site
        bonds = -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).sum(axis=(1, 2))
        examples = tf.data.Dataset.from_tensor_slices((x, bonds))
        epoch = [np.array([e for e, _ in pipeline.symmetries(examples, block=4, seed=[1, k])
                           .as_numpy_iterator()]) for k in (0, 1)]
        first = epoch[0]
        moved = first[:, ::4, ::4, 0]
        self.assertAllEqual(np.repeat(np.repeat(moved, 4, axis=1), 4, axis=2)[..., None], first)
        self.assertAllEqual(-(moved * np.roll(moved, 1, 1) + moved * np.roll(moved, 1, 2)).sum(axis=(1, 2)),
                            bonds)
        self.assertGreater(np.mean(np.any(epoch[0] != epoch[1], axis=(1, 2, 3))), 0.9)  # fresh each epoch
        # the same seed gives the same images whenever it is iterated (exact resume)
        again = pipeline.symmetries(examples, block=4, seed=[1, 0])
        self.assertAllEqual(first, np.array([e for e, _ in again.as_numpy_iterator()]))
        self.assertAllEqual(first, np.array([e for e, _ in again.as_numpy_iterator()]))
        # One configuration reaches exactly its orbit under translations x D4 x spin flip.
        one = s[0]
        orbit = {(sign * np.rot90(np.roll(one, (a, b), (0, 1)), k)[:, ::step]).tobytes()
                 for a in range(4) for b in range(4) for k in range(4) for step in (1, -1)
                 for sign in (1, -1)}
        images = pipeline.symmetries(tf.data.Dataset.from_tensors((one[..., None], 0.0)).repeat(8000),
                                     seed=2)
        self.assertEqual({np.ascontiguousarray(e[..., 0]).tobytes() for e, _ in images.as_numpy_iterator()},
                         orbit)
        # with flip_signs the label follows the flip: (E, M) -> (E, -M)
        labelled = pipeline.symmetries(tf.data.Dataset.from_tensor_slices(
            (s[..., None], np.stack([bonds, s.sum((1, 2))], 1))), seed=4, flip_signs=[1.0, -1.0])
        for e, (energy, m) in labelled.as_numpy_iterator():
            self.assertEqual(e.sum(), m)
            self.assertEqual(-(e[..., 0] * np.roll(e[..., 0], 1, 0) + e[..., 0] * np.roll(e[..., 0], 1, 1)).sum(),
                             energy)
        signed = pipeline.symmetries(tf.data.Dataset.from_tensor_slices((s[..., None], s.sum((1, 2)))),
                                     spin_flip=False, seed=3)
        for e, m in signed.as_numpy_iterator():
            self.assertEqual(e.sum(), m)
        # rotate=False (images of rectangular cells): translations x the 4 axis reflections
        wide = np.arange(12, dtype=np.float32).reshape(3, 4)
        orbit = {np.roll(wide, (a, b), (0, 1))[::r, ::c].tobytes() for a in range(3)
                 for b in range(4) for r in (1, -1) for c in (1, -1)}
        images = pipeline.symmetries(tf.data.Dataset.from_tensors((wide[..., None], 0.0))
                                     .repeat(3000), spin_flip=False, seed=5, rotate=False)
        self.assertEqual({np.ascontiguousarray(e[..., 0]).tobytes()
                          for e, _ in images.as_numpy_iterator()}, orbit)
        # reflect=False (digits): the 4 rotations only, no translation
        square = np.arange(9, dtype=np.float32).reshape(3, 3)
        turned = pipeline.symmetries(tf.data.Dataset.from_tensors((square[..., None], 0.0))
                                     .repeat(400), spin_flip=False, seed=6, translate=False,
                                     reflect=False)
        self.assertEqual({np.ascontiguousarray(e[..., 0]).tobytes()
                          for e, _ in turned.as_numpy_iterator()},
                         {np.rot90(square, k).tobytes() for k in range(4)})


class GenerateSpinsTest(tf.test.TestCase):
    def _run(self, *args):
        return testing.run_script("generate_spins", *args)

    def test_interrupted_generation_resumes_to_the_same_dataset(self):
        args = ["--model=ising", "--L=8", "--sampler=targeted", "--count=756", "--shard_size=252"]
        full, cut = self.get_temp_dir() + "/full", self.get_temp_dir() + "/cut"
        self.assertEqual(self._run(*args, f"--out={full}").returncode, 0)
        proc = self._run(*args, f"--out={cut}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # simulate a crash during the last shard: its file and manifest entry never got written
        with open(os.path.join(cut, shards.MANIFEST)) as handle:
            manifest = json.load(handle)
        os.remove(os.path.join(cut, manifest["shards"].pop()["file"]))
        manifest["count"] = sum(s["count"] for s in manifest["shards"])
        with open(os.path.join(cut, shards.MANIFEST), "w") as handle:
            json.dump(manifest, handle)
        proc = self._run(*args, f"--out={cut}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("(252 new", proc.stdout)
        a, b = shards.load(full), shards.load(cut)
        for key in a:
            self.assertAllEqual(a[key], b[key])
        self.assertAllEqual(np.bincount(a["label"]), np.full(63, 12))  # flat over 63 classes

    def test_a_larger_count_grows_the_dataset_a_fresh_run_would_make(self):
        args = ["--model=ising", "--L=4", "--sampler=uniform", "--shard_size=150"]
        fresh, grown = self.get_temp_dir() + "/fresh", self.get_temp_dir() + "/grown"
        self.assertEqual(self._run(*args, "--count=700", f"--out={fresh}").returncode, 0)
        self.assertEqual(self._run(*args, "--count=500", f"--out={grown}").returncode, 0)
        proc = self._run(*args, "--count=700", f"--out={grown}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("(250 new", proc.stdout)  # the old last shard (50 -> 150) and 100 more
        a, b = shards.load(fresh), shards.load(grown)
        for key in a:
            self.assertAllEqual(a[key], b[key])
        proc = self._run(*args, "--count=600", f"--out={grown}")  # shrinking would mix two sets
        self.assertEqual(proc.returncode, 2)
        self.assertIn("(count 700: a rerun may raise --count, not lower it)",
                      proc.stderr.strip().splitlines()[-1])

    def test_a_rerun_remakes_missing_and_corrupt_shards_identically(self):
        args = ["--model=ising", "--L=4", "--sampler=uniform", "--count=500", "--shard_size=150"]
        full, healed = self.get_temp_dir() + "/ref", self.get_temp_dir() + "/heal"
        self.assertEqual(self._run(*args, f"--out={full}").returncode, 0)
        self.assertEqual(self._run(*args, f"--out={healed}").returncode, 0)
        os.remove(os.path.join(healed, "shard-00001.npz"))
        with open(os.path.join(healed, "shard-00003.npz"), "r+b") as handle:
            handle.seek(100)
            handle.write(b"garbage")
        stale = os.path.join(healed, "shard-00002.npz.tmp-99999")  # left by a SIGKILL mid-write
        open(stale, "wb").close()
        proc = self._run(*args, f"--out={healed}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("remaking 2 missing or corrupt shard(s): shard-00001.npz, shard-00003.npz",
                      proc.stdout)
        self.assertIn("(200 new", proc.stdout)  # 150 + the last shard's 50
        self.assertFalse(os.path.exists(stale))
        a, b = shards.load(full), shards.load(healed)
        for key in a:
            self.assertAllEqual(a[key], b[key])
        self.assertIn("(0 new", self._run(*args, f"--out={healed}").stdout)

    def test_outputs_never_replace_what_tfphys_did_not_make(self):
        user = os.path.join(self.get_temp_dir(), "user")
        os.makedirs(user)
        open(os.path.join(user, "notes.txt"), "w").close()
        a_file = os.path.join(self.get_temp_dir(), "file.txt")
        open(a_file, "w").close()
        for out, expect in ((user, "already holds files that are not a tfphys dataset"),
                            (a_file, "is an existing file")):
            proc = self._run("--count=10", f"--out={out}")
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
            self.assertIn(expect, proc.stderr)
        self.assertEqual(os.listdir(user), ["notes.txt"])
        proc = self._run("--count=10", f"--out={self.get_temp_dir()}/new", f"--plot={user}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--plot", proc.stderr)
        self.assertFalse(os.path.exists(f"{self.get_temp_dir()}/new"))  # refused before any work

    def test_full_4x4_configuration_space(self):
        out = self.get_temp_dir() + "/all4"
        proc = self._run("--sampler=all", "--L=4", f"--out={out}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        data = shards.load(out)
        self.assertLen(np.unique(data["spins"].reshape(-1, 16), axis=0), 65536)

    def test_bad_requests_give_one_line(self):
        proc = self._run("--sampler=all", "--L=6", f"--out={self.get_temp_dir()}/x")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("use L <= 4", proc.stderr)


class TargetedCountTest(tf.test.TestCase):
    def test_targeted_sets_hold_exactly_the_count_with_a_flat_histogram(self):
        data = spins.generate(spins.SpinSource("ising", 4), "targeted", 1000, seed=0)
        self.assertLen(data["spins"], 1000)
        counts = np.bincount(data["label"], minlength=15)
        self.assertLessEqual(counts.max() - counts.min(), 2)  # 1000 / 15 levels: 66 or 67 each
        # 4x4 screened Coulomb energies are discrete: most of 64 uniform bins are unreachable,
        # the reachable ones fill up over several rounds until the count is met
        coulomb = spins.generate(spins.SpinSource("screened_coulomb", 4), "targeted", 1000,
                                 seed=0, n_bins=64)
        self.assertLen(coulomb["spins"], 1000)
        self.assertAllClose(coulomb["energy"], longrange.explicit_energy(coulomb["spins"]))
