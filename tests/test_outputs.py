"""Where outputs may go: new paths, empty folders and tfphys's own outputs; nothing else."""

import json
import os

import tensorflow as tf

from tfphys import outputs
from tfphys.errors import InputError


class ClaimTest(tf.test.TestCase):
    def test_folders(self):
        root = self.get_temp_dir()
        self.assertEqual(outputs.claim_dir(f"{root}/new/deeper", "m.json", "thing", "--out"),
                         os.path.abspath(f"{root}/new/deeper"))
        os.makedirs(f"{root}/empty")
        outputs.claim_dir(f"{root}/empty", "m.json", "thing", "--out")
        os.makedirs(f"{root}/ours")
        open(f"{root}/ours/m.json", "w").close()
        open(f"{root}/ours/data.bin", "w").close()
        outputs.claim_dir(f"{root}/ours", "m.json", "thing", "--out")
        os.makedirs(f"{root}/theirs")
        open(f"{root}/theirs/thesis.tex", "w").close()
        with self.assertRaisesRegex(InputError, r"^--out .*theirs already holds files that are "
                                                r"not a thing \(thesis.tex\)"):
            outputs.claim_dir(f"{root}/theirs", "m.json", "thing", "--out")
        with self.assertRaisesRegex(InputError, "is an existing file"):
            outputs.claim_dir(f"{root}/theirs/thesis.tex", "m.json", "thing", "--out")
        with self.assertRaisesRegex(InputError, "is a file, not a folder"):
            outputs.claim_dir(f"{root}/theirs/thesis.tex/sub", "m.json", "thing", "--out")

    def test_loose_file_folders(self):
        root = self.get_temp_dir()
        outputs.claim_folder(f"{root}/maps/deeper", "--plot")
        self.assertTrue(os.path.isdir(f"{root}/maps/deeper"))
        outputs.claim_folder(f"{root}/maps", "--plot")  # an existing folder gains files
        open(f"{root}/notes.txt", "w").close()
        with self.assertRaisesRegex(InputError, r"^--plot .*notes.txt is an existing file; give "
                                                r"a folder$"):
            outputs.claim_folder(f"{root}/notes.txt", "--plot")
        with self.assertRaisesRegex(InputError, "is a file, not a folder"):
            outputs.claim_folder(f"{root}/notes.txt/sub", "--plot")

    def test_files(self):
        root = self.get_temp_dir()
        self.assertEqual(outputs.claim_file(f"{root}/a/b.png", ".png", "--plot"), f"{root}/a/b.png")
        with self.assertRaisesRegex(InputError, "must name a .png file"):
            outputs.claim_file(f"{root}/b.pdf", ".png", "--plot")
        os.makedirs(f"{root}/dir.png")
        with self.assertRaisesRegex(InputError, "is a folder"):
            outputs.claim_file(f"{root}/dir.png", ".png", "--plot")

    def test_markers(self):
        path = os.path.join(self.get_temp_dir(), "marker.json")
        with open(path, "w") as handle:
            json.dump({"format": "x/1", "a": 1}, handle)
        self.assertEqual(outputs.read_marker(path, "x/1", "fix it")["a"], 1)
        with self.assertRaisesRegex(InputError, "expected 'x/2'; fix it"):
            outputs.read_marker(path, "x/2", "fix it")
        with open(path, "w") as handle:
            handle.write("[1, 2")
        with self.assertRaisesRegex(InputError, "is unreadable .*; fix it"):
            outputs.read_marker(path, "x/1", "fix it")
