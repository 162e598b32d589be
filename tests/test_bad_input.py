"""The bad-input table: every bin/ script given a hostile or mistaken input answers with one line
naming the problem (exit 2), or fails cleanly (exit 1) when the job itself fails, and leaves no
output behind; the benchmarks keep the same conventions. New systems add their rows here so the
guarantee stays true as they arrive."""

import concurrent.futures
import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import shards, spins
from tfphys.training import export, presets
from tfphys.training.spins import run


def _script(name, *args):
    """bin/<name>, or benchmarks/<name> for a .py name."""
    return testing.run_script(name, *args, timeout=600,
                              folder="benchmarks" if name.endswith(".py") else "bin")


def _dataset(directory, model="ising", L=8, count=40, spin_value=None, label=None):
    source = spins.SpinSource(model, L)
    data = spins.generate(source, "uniform", count, seed=0)
    if spin_value is not None:
        data["spins"] = (data["spins"] * spin_value).astype(np.int8)
    if label is not None:
        data["label"] = np.full(count, label, np.int64)
    writer = shards.ShardWriter(directory, {"model": model, "L": L, "sampler": "uniform"})
    writer.write(0, **data)
    return directory


class BadInputTableTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.dir = tempfile.mkdtemp(prefix="tfphys-bad-input-")
        cls.ednn_model = export.export(run.build(presets.get("ednn_quick")), f"{d}/ednn",
                                       run.facts(presets.get("ednn_quick")))
        cls.cnn_model = export.export(run.build(presets.get("ising4_quick")), f"{d}/cnn",
                                      run.facts(presets.get("ising4_quick")))
        magnet = presets.get("ising8_magnetization")
        cls.magnet_model = export.export(run.build(magnet), f"{d}/magnet", run.facts(magnet))
        inputs = tf.keras.Input((8, 8, 1))
        hostile = tf.keras.Model(inputs, tf.keras.layers.Lambda(lambda t: t * 2)(inputs))
        cls.hostile = export.export(hostile, f"{d}/hostile", run.facts(presets.get("ednn_quick")))
        cls.no_variables = export.export(run.build(presets.get("ednn_quick")), f"{d}/novars",
                                         run.facts(presets.get("ednn_quick")))
        shutil.rmtree(f"{cls.no_variables}/variables")
        os.makedirs(f"{d}/folder.png")
        os.makedirs(f"{d}/garbage")
        with open(f"{d}/garbage/saved_model.pb", "wb") as handle:
            handle.write(b"\x00garbage")
        os.makedirs(f"{d}/user")
        with open(f"{d}/user/notes.txt", "w") as handle:
            handle.write("mine")
        np.savez(f"{d}/couplings_only.npz", J_right=np.ones((2, 4, 4)), J_down=np.ones((2, 4, 4)))
        np.save(f"{d}/flat_potentials.npy", np.zeros((3, 16)))
        nan = np.zeros((3, 16, 16))
        nan[2, 4, 4] = np.nan
        np.save(f"{d}/nan_potentials.npy", nan)
        cls.potts = _dataset(f"{d}/potts", model="potts", L=8)
        cls.small = _dataset(f"{d}/ising3", L=3)
        cls.twos = _dataset(f"{d}/twos", spin_value=2)
        cls.classes = _dataset(f"{d}/classes", L=4, label=40)
        for name, manifest in (("empty_list", []), ("no_shards", {"format": shards.FORMAT})):
            os.makedirs(f"{d}/{name}")
            with open(f"{d}/{name}/{shards.MANIFEST}", "w") as handle:
                json.dump(manifest, handle)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def _check_rows(self, cases):
        """Run (script, args, exit status, text or None) rows two at a time, then the verdicts:
        the status, no traceback and, where a text is given, the last line of stderr names the
        problem (exit 2: refused before any work, so it is the only line)."""
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda case: _script(case[0], *case[1]), cases))
        for (script, args, status, text), proc in zip(cases, results):
            with self.subTest(script=script, args=args):
                self.assertEqual(proc.returncode, status, proc.stderr[-2000:])
                self.assertNotIn("Traceback", proc.stderr)
                if text is None:
                    continue
                lines = proc.stderr.strip().splitlines()
                if status == 2:
                    self.assertLen(lines, 1, proc.stderr[-2000:])
                self.assertIn(text, lines[-1])
                self.assertTrue(lines[-1].startswith(f"{script}: "), lines[-1])

    def test_every_case_is_one_line_and_the_right_exit_status(self):
        d = self.dir
        tiny = ["--train_examples=200", "--test_examples=20", "--epochs=1"]
        cases = [  # (script, args, exit status, text the one line must contain)
            ("train_ednn", ["--learning_rate=inf"], 2, "--learning_rate must be a positive finite"),
            ("train_ednn", ["--learning_rate=0"], 2, "--learning_rate must be a positive finite"),
            ("train_ednn", [*tiny, "--epochs=3", "--optimizer=sgd", "--learning_rate=1e12",
                            f"--export={d}/nan"],
             1, "training diverged"),
            ("train_ednn", ["--context=100"], 2, "context 100 is wider than the 8x8 lattice"),
            ("train_ednn", ["--context=9"], 2, "use --context <= 8"),
            ("train_ednn", ["--eval_L=100000"], 2, "GiB"),
            ("train_ednn", [f"--export={d}/user"], 2, "not a tfphys model export"),
            ("train_ednn", [f"--export={d}/user/notes.txt"], 2, "is an existing file"),
            ("train_ednn", [f"--run_dir={d}/user"], 2, "not a tfphys run directory"),
            ("train_ednn", [f"--data={self.potts}"], 2, "potts configurations"),
            ("train_ednn", [f"--data={self.small}"], 2, "[3, 3]"),
            ("train_ednn", [f"--data={self.twos}"], 2, "+-1"),
            ("train_ednn", [f"--data={d}/empty_list"], 2, "regenerate the dataset"),
            ("train_ednn", [f"--data={d}/no_shards"], 2, "lacks a 'shards' list"),
            ("train_cnn", [f"--data={self.classes}", "--preset=ising4_quick"], 2, "energy classes outside"),
            ("evaluate", [f"--model={self.ednn_model}", "--preset=ising4_classify"], 2, "--preset ednn_quick"),
            ("evaluate", [f"--model={self.cnn_model}", "--preset=ednn_quick"], 2, "--preset ising4_quick"),
            ("evaluate", [f"--model={d}/garbage"], 2, "not a tfphys export"),
            ("evaluate", [f"--model={self.no_variables}"], 2, "incomplete (variables is missing)"),
            ("evaluate", [f"--model={self.hostile}"], 2, "refusing to load"),
            ("evaluate", [f"--model={d}/missing"], 2, "no exported model"),
            ("evaluate", [f"--model={self.ednn_model}", "--L=100000"], 2, "GiB"),
            ("evaluate", [f"--model={self.ednn_model}", f"--plot={d}/folder.png"], 2, "is a folder"),
            ("evaluate", [f"--model={self.ednn_model}", f"--plot={d}/user"], 2, "must name a .png"),
            ("generate_spins", ["--model=screened_coulomb", "--screening=nan", f"--out={d}/o1"], 2,
             "screening must be a finite number"),
            ("generate_spins", ["--model=screened_coulomb", "--screening=-1", f"--out={d}/o2"], 2,
             "screening must be >= 0"),
            ("generate_spins", ["--J=nan", f"--out={d}/o3"], 2, "J must be a finite number"),
            ("generate_spins", ["--J=0", f"--out={d}/o4"], 2, "J must not be 0"),
            ("generate_spins", ["--sampler=thermal", "--temperature=nan", f"--out={d}/o5"], 2,
             "temperature must be a finite number"),
            ("generate_spins", ["--L=100000", "--sampler=uniform", f"--out={d}/o6"], 2, "GiB"),
            ("generate_spins", [f"--out={d}/user/notes.txt"], 2, "is an existing file"),
            ("thermodynamics", ["--L=100000"], 2, "GiB"),
            ("generate", [f"--model={self.ednn_model}", "--energy=-1", "--magnetization=0"], 2,
             "not a generator"),
            ("generate", [f"--model={d}/missing", "--energy=-1", "--magnetization=0"], 2,
             "no exported model"),
            ("train_rugan", [f"--export={d}/user"], 2, "not a tfphys model export"),
            ("train_rugan", ["--preset=rugan_hexagonal_quick"], 2, "give --data DIR"),
            ("train_rugan", ["--preset=rugan_hexagonal_quick", "--region=fig6"], 2,
             "--region applies to the Ising presets"),
            ("train_rugan", [f"--data={d}/user"], 2, "apply to the rugan_hexagonal presets"),
            ("train_rugan", ["--decay=cosine"], 2, "apply to the rugan_hexagonal presets"),
            ("generate_sheets", [f"--energy_model={self.ednn_model}", f"--out={d}/labelled"], 2,
             "is not a sheet energy model"),
            ("train_rugan", ["--L=18"], 2, "--L 18: the generator makes lattices of 4x"),
            ("train_rugan", [f"--init={self.ednn_model}"], 2, "this run needs a rugan_generator"),
            ("train_rugan", ["--preset=rugan_hexagonal_quick", f"--init={d}/user"], 2,
             "--init applies to the Ising presets"),
            ("train_gan", [f"--export={d}/user"], 2, "not a tfphys model export"),
            ("train_gan", ["--outliers=2"], 2, "outliers is the largest fraction of spins"),
            ("train_gan", ["--epochs=3", "--select_from=5"], 2,
             "--select_from must be an epoch of the run (1 to 3), got 5"),
            ("train_gan", ["--average=1"], 2, "--average is the momentum of the generator's"),
            ("train_rugan", ["--average=-0.5"], 2, "--average is the momentum of the generator"),
            ("train_rugan", ["--reach=9"], 2, "--reach 9: give 0 (the thesis's generator) to 8"),
            ("ground_states", [f"--instances={d}/absent.npz", f"--out={d}/g.npz"], 2,
             "no such instance file"),
            ("ground_states", [f"--instances={d}/user/notes.txt", f"--out={d}/g.npz"], 2,
             "not a readable .npz"),
            ("ground_states", ["--L=100", f"--out={d}/g.npz"], 2, "beyond L = 24"),
            ("evaluate_cool", [f"--instances={d}/couplings_only.npz"], 2, "no ground_energy"),
            ("evaluate_cool", [f"--instances={d}/couplings_only.npz", f"--policy={d}/user"], 2,
             "not a COOL policy export"),
            ("train_cool", [f"--export={d}/user"], 2, "not a tfphys model export"),
            ("train_cool", [f"--run_dir={d}/user"], 2, "not a tfphys run directory"),
            ("evaluate_cool", [f"--instances={d}/couplings_only.npz", "--baselines=quantum"], 2,
             "unknown baseline"),
            ("ground_states", [f"--out={d}/user/notes.txt"], 2, "must name a .npz file"),
            ("train_gan", [f"--plot={d}/user/notes.txt"], 2, "must name a .png file"),
            ("thermodynamics", [f"--energy_model={self.magnet_model}", "--L=4"], 2,
             "needs a model of ising predicting energy or label"),
            ("thermodynamics", [f"--plot={d}/folder.png"], 2, "is a folder"),
            ("solve_schrodinger", [f"--potentials={d}/flat_potentials.npy", f"--out={d}/s.npz"],
             2, "expected (n, side, side)"),
            ("solve_schrodinger", [f"--potentials={d}/nan_potentials.npy", f"--out={d}/s.npz"],
             2, "potential 2 holds NaN or inf"),
            ("solve_schrodinger", [f"--potentials={d}/absent.npy", f"--out={d}/s.npz"], 2,
             "no such file"),
            ("solve_schrodinger", [f"--potentials={d}/user/notes.txt", f"--out={d}/s.npz"], 2,
             "not a readable .npy"),
            ("solve_schrodinger", [f"--out={d}/s.npz"], 2, "give either --potentials"),
            ("generate_potentials", [f"--out={d}/user/notes.txt"], 2, "is an existing file"),
            ("generate_sheets", [f"--out={d}/user/notes.txt"], 2, "is an existing file"),
            ("augment_sheets", [f"--data={d}/user", f"--out={d}/o_aug"], 2,
             "manifest.json is missing"),
            ("augment_sheets", [f"--data={d}/user", f"--out={d}/o_aug", "--copies=120"], 2,
             "not an integer in the range [1, 119]"),
            ("generate_counting", [f"--out={d}/user/notes.txt"], 2, "is an existing file"),
            ("fetch_mnist", [f"--out={d}/user/notes.txt"], 2, "is an existing file"),
            ("generate_counting", [f"--out={d}/c", f"--mnist_dir={d}/absent"], 2,
             "no train-images-idx3-ubyte"),
            ("generate_counting", [f"--out={d}/c", "--dataset=rd1", "--size=192x128"], 2,
             "the scenes are square: give --size SIDE"),
            ("generate_counting", [f"--out={d}/c", "--size=1920by1080"], 2,
             "is not SIDE or WIDTHxHEIGHT"),
            ("generate_counting", [f"--out={d}/c", "--dataset=rd2", "--warp"], 2,
             "--warp is for the MNIST collages"),
            ("generate_counting", [f"--out={d}/c", "--size=32", "--l_max=300"], 2,
             "no layout of up to 300 objects per class found in 100 draws on 32x32 images"),
            ("train_schrodinger", [], 2, "give --data DIR"),
            ("train_schrodinger", [f"--data={d}/user"], 2, "manifest.json is missing"),
        ]
        self._check_rows(cases)
        self.assertFalse(os.path.exists(f"{d}/nan"))  # a diverged run exports nothing
        self.assertFalse(any(n.startswith(".nan") for n in os.listdir(d)))
        self.assertEqual(os.listdir(f"{d}/user"), ["notes.txt"])
        self.assertEqual([n for n in os.listdir(d) if n.startswith(("o", "."))], [])  # no leftovers

    def test_benchmarks_keep_the_conventions(self):
        """Every benchmark imports, answers --help with exit 0, and refuses a missing input in one
        line: they are scripts users run too."""
        d = self.dir
        names = sorted(n for n in os.listdir(os.path.join(testing.CHECKOUT, "benchmarks"))
                       if n.endswith(".py") and n != "common.py")
        cases = [(name, ["--help"], 0, None) for name in names] + [
            ("sheet_peers.py", [f"--data={d}/user"], 2, "manifest.json is missing"),
            ("sheet_locality.py", ["--pairs=hbn:C+B"], 2, "is not MATERIAL:X@SITE+Y@SITE"),
            ("sheet_locality.py", ["--pairs=hbn:B@C+C@N"], 2, "has no C or no N sites"),
            ("rugan_generation.py", [f"--model={d}/missing"], 2, "no exported model"),
            ("counting_scale.py", [f"--model={d}/missing"], 2, "no exported model"),
            ("counting_lone_digits.py", [f"--model={d}/missing"], 2, "no exported model"),
        ]
        self._check_rows(cases)

    def test_resuming_with_another_architecture_is_one_line(self):
        run_dir = os.path.join(self.dir, "run")
        args = ["--train_examples=200", "--test_examples=20", "--epochs=1", f"--run_dir={run_dir}"]
        self.assertEqual(_script("train_ednn", *args).returncode, 0)
        proc = _script("train_ednn", *args, "--context=2", "--epochs=2")
        self.assertEqual(proc.returncode, 2, proc.stderr[-2000:])
        self.assertNotIn("Traceback", proc.stderr)
        last = proc.stderr.strip().splitlines()[-1]  # after the run's own log line
        self.assertRegex(last, r"^train_ednn: error: the checkpoint in .* is from a different model")
