"""Every bin/ script follows the conventions of tfphys.cli: --help, one-line errors, exit codes."""

import concurrent.futures
import glob
import os
import re

import tensorflow as tf

from tfphys import testing

SCRIPTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(testing.CHECKOUT, "bin", "*")))


def _run_every_script(*args):
    """(script, finished process) of every bin/ script run with `args`, two at a time (each
    spends seconds importing TensorFlow on one core)."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return list(zip(SCRIPTS, pool.map(lambda name: testing.run_script(name, *args), SCRIPTS)))


def _flag_help(help_text):
    """{flag: help text} for every flag --help lists, wrapped lines joined, enum choices and
    the default/type annotations removed."""
    entries, name = {}, None
    for line in help_text.splitlines():
        start = re.match(r"^  --(?:\[no\])?(\w+): ?(.*)$", line)
        if start:
            name = start.group(1)
            entries[name] = start.group(2)
        elif name and line.startswith("    ") and not line.strip().startswith("("):
            entries[name] += " " + line.strip()
        elif not line.startswith("    "):
            name = None
    return {k: re.sub(r"^<[^>]*>: ", "", v).strip() for k, v in entries.items()}


class BinScriptsTest(tf.test.TestCase):
    def test_there_are_scripts(self):
        self.assertIn("check_env", SCRIPTS)

    def test_help_explains_every_flag_and_exits_zero(self):
        for script, proc in _run_every_script("--help"):
            with self.subTest(script=script):
                self.assertEqual(proc.returncode, 0, proc.stderr)
                flags = _flag_help(proc.stdout)
                self.assertNotEmpty(flags, proc.stdout)
                for name, text in flags.items():
                    self.assertGreater(len(text.split()), 3, f"--{name} has no real help: {text!r}")

    def test_bad_flags_give_one_line_and_exit_two(self):
        for script, proc in _run_every_script("--no_such_flag=1"):
            with self.subTest(script=script):
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertIn("no_such_flag", proc.stderr)

    def test_check_env_rejects_a_negative_rank_count(self):
        proc = testing.run_script("check_env", "--horovod_np=-1")
        self.assertEqual(proc.returncode, 2)
        self.assertRegex(proc.stderr.strip(), r"^check_env: error: .*horovod_np.*\(see check_env --help\)$")

    def test_streaming_an_augmented_preset_names_the_fix(self):
        proc = testing.run_script("train_cnn", "--preset=ising4_quick", "--stream")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("--noaugment", proc.stderr)

    def test_check_env_passes_with_a_real_two_rank_allreduce(self):
        proc = testing.run_script("check_env", "--horovod_np=2")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"rank 0/2 +3\.0\n +rank 1/2 +3\.0")
        self.assertRegex(proc.stdout, r"gloo +True")
        self.assertTrue(proc.stdout.rstrip().endswith("OK"))

    def test_check_env_fails_when_gpus_are_missing(self):
        if tf.config.list_physical_devices("GPU"):
            self.skipTest("this machine has GPUs")
        proc = testing.run_script("check_env", "--horovod_np=0", "--expect_gpus=1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("FAIL: TensorFlow sees 0 GPU(s)", proc.stdout)

    def test_thermodynamics_prints_the_table_and_draws_the_plot(self):
        png = os.path.join(self.get_temp_dir(), "thermo.png")
        proc = testing.run_script("thermodynamics", "--L=4", "--n_T=3",
                                  "--measure=200", "--equilibrate=100", f"--plot={png}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertLen(re.findall(r"^ *\d\.\d{3} ", proc.stdout, re.M), 3)
        with open(png, "rb") as handle:
            self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")
