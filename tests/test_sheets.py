"""Labelled sheet datasets: fields and padding, the stored structure remakes the stored image,
the same seed gives the same sheets, crystalline sheets sit on the lattice and never repeat,
and bin/generate_sheets writes, resumes, grows a crystal set as a fresh run makes it, and
refuses."""

import collections
import os

import ase
import numpy as np
import tensorflow as tf

from tfphys import testing
from tfphys.data import shards, sheets
from tfphys.errors import InputError
from tfphys.physics.atoms import images, zigzag
from tfphys.physics.atoms import sheets as lattice


class SheetDataTest(tf.test.TestCase):
    def test_fields_and_stored_structures(self):
        got = sheets.examples("hexagonal", 3, seed=5, workers=2)
        self.assertEqual(got["image"].shape, (3, 256, 256))
        drawn = sheets.structures("hexagonal", 3, np.random.default_rng(5))
        for k in range(3):
            n = got["atoms"][k]
            self.assertAllEqual(got["numbers"][k, n:], np.zeros(60 - n))
            atoms = sheets.stored_sheet(got, k)
            self.assertAllEqual(atoms.numbers, drawn[k].numbers)
            self.assertAllClose(atoms.positions, drawn[k].positions)
            self.assertAllClose(atoms.cell, drawn[k].cell)
            self.assertAllClose(images.image(atoms, (256, 256)), got["image"][k], atol=1e-5)
        self.assertTrue(np.all(np.isfinite(got["energy"])))
        with self.assertRaisesRegex(InputError, "unknown sheet kind 'cubic'"):
            sheets.structures("cubic", 1, np.random.default_rng())
        self.assertNotIn("encoding", got)

    def test_porous_sheets_carry_their_zig_zag_encoding(self):
        got = sheets.examples("porous", 1, seed=2, workers=2)
        self.assertEqual(got["encoding"].shape, (1, 18, 20))
        n = got["atoms"][0]
        self.assertEqual(int((got["encoding"][0] > 0).sum()), n)
        atoms = ase.Atoms(numbers=got["numbers"][0, :n], positions=got["positions"][0, :n],
                          cell=got["cell"][0], pbc=[True, True, False])
        self.assertAllEqual(zigzag.encode(atoms), got["encoding"][0])

    def test_crystalline_sheets_keep_lattice_sites_and_carry_defects(self):
        made = sheets.structures("hexagonal", 40, np.random.default_rng(3), displacement=0)
        crystals = [lattice.hexagonal(material).positions for material in ("graphene", "hbn")]
        for atoms in made:
            off = [np.linalg.norm(atoms.positions[:, None] - crystal[None], axis=-1).min(axis=1)
                   .max() for crystal in crystals]  # every atom on a site of one crystal
            self.assertLess(min(off), 1e-9)
        pristine = [a for a in made if len(a) == 60 and len(set(a.get_chemical_symbols())) < 3
                    and a.get_chemical_symbols().count("C") in (0, 60)]
        self.assertLessEqual(len(pristine), 2)  # once per material: crystals never repeat
        made = sheets.structures("hexagonal", 300, np.random.default_rng(3), displacement=0)
        keys = {lattice.crystal_key(atoms) for atoms in made}
        self.assertLen(keys, 300)
        more = sheets.structures("hexagonal", 100, np.random.default_rng(3), 0, seen=set(keys))
        self.assertEmpty(keys & {lattice.crystal_key(atoms) for atoms in more})
        moved = sheets.structures("hexagonal", 4, np.random.default_rng(3), displacement=0.1)
        self.assertGreater(np.abs(moved[0].positions[:, 2] - lattice.VACUUM / 2).max(), 0)
        with self.assertRaisesRegex(InputError, "displacement must be"):
            sheets.structures("hexagonal", 1, np.random.default_rng(), displacement=-1.0)

    def test_bin_generate_sheets_writes_and_resumes(self):
        out = os.path.join(self.get_temp_dir(), "hex")
        for new in (5, 0):
            proc = testing.run_script("generate_sheets", "--count=5", "--shard_size=2",
                                      f"--out={out}")
            self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
            self.assertIn(f"5 sheets in 3 shard(s) at {out} ({new} new", proc.stdout)
        manifest = shards.read_manifest(out)
        self.assertEqual(manifest["metadata"]["labeller"]["method"], "GFN1-xTB")
        self.assertLen(shards.field(out, "energy"), 5)

    def test_without_images_the_rest_is_as_with_them(self):
        def energy_model(pictures):  # images -> energies: a stand-in labeller, no tblite
            return -pictures.sum(axis=(1, 2)).astype(np.float64)
        full = sheets.examples("porous", 2, seed=4, energy_model=energy_model)
        bare = sheets.examples("porous", 2, seed=4, energy_model=energy_model,
                               keep_images=False)
        self.assertEqual(set(full) - set(bare), {"image"})
        for name, values in bare.items():
            self.assertAllEqual(values, full[name])  # the test flag still comes from the image
        plot = os.path.join(self.get_temp_dir(), "bare.png")
        out = os.path.join(self.get_temp_dir(), "bare")
        proc = testing.run_script("generate_sheets", "--kind=porous", "--count=1", "--noimages",
                                  f"--plot={plot}", f"--out={out}")  # drawn from the structure
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        fields = shards.read_manifest(out)["fields"]
        self.assertIn("encoding", fields)
        self.assertNotIn("image", fields)
        self.assertTrue(os.path.exists(plot))
        proc = testing.run_script("generate_sheets", "--kind=porous", "--count=1",
                                  f"--out={out}")
        self.assertEqual(proc.returncode, 2)  # no mixing of sets with and without images
        self.assertIn("other settings", proc.stderr)
        proc = testing.run_script("generate_sheets", "--noimages", f"--out={out}_hex")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--noimages is for porous sets", proc.stderr)

    def test_bin_generate_sheets_grows_distinct_crystals_as_a_fresh_run(self):
        made = {}
        for name, counts in (("grown", (3, 5)), ("fresh", (5,))):
            out = os.path.join(self.get_temp_dir(), name)
            for count in counts:
                proc = testing.run_script("generate_sheets", f"--count={count}",
                                          "--shard_size=2", "--displacement=0", f"--out={out}")
                self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
            made[name] = shards.fields(out, ["numbers", "positions", "cell", "energy"])
        for grown, fresh in zip(made["grown"][:3], made["fresh"][:3]):
            self.assertAllEqual(grown, fresh)  # the same crystals, bit for bit
        # the same energies to the last bits: the SCF's BLAS sums are not bitwise reproducible
        # from run to run (MKL picks code paths by memory alignment; a CI run once differed by
        # one ulp, 4.5e-13 of -3756 eV)
        self.assertAllClose(made["grown"][3], made["fresh"][3], rtol=1e-12, atol=0)
        numbers, positions, cells, _ = made["fresh"]
        keys = {lattice.crystal_key(ase.Atoms(z[z > 0], p[z > 0], cell=c, pbc=[1, 1, 0]))
                for z, p, c in zip(numbers, positions, cells)}
        self.assertLen(keys, 5)

    def test_bin_augment_sheets_adds_symmetric_copies_of_training_crystals(self):
        data, out = (os.path.join(self.get_temp_dir(), name) for name in ("crystals", "grown"))
        commands = [("generate_sheets", "--count=6", "--shard_size=4", "--displacement=0",
                     "--seed=1", f"--out={data}"),
                    ("augment_sheets", f"--data={data}", "--copies=2", f"--out={out}")]
        for command in commands + commands[1:]:  # the second augment finds it done
            proc = testing.run_script(*command)
            self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        source, grown = shards.load(data), shards.load(out)
        train = int((~source["test"]).sum())
        self.assertLen(grown["energy"], 6 + 2 * train)
        self.assertEqual(int(grown["test"].sum()), int(source["test"].sum()))
        keys = {}
        for k in range(6):
            n = source["atoms"][k]
            atoms = ase.Atoms(source["numbers"][k, :n], source["positions"][k, :n],
                              cell=source["cell"][k], pbc=[1, 1, 0])
            keys[lattice.crystal_key(atoms)] = (source["energy"][k], source["test"][k])
        copies = collections.Counter()
        for k in range(len(grown["energy"])):
            n = grown["atoms"][k]
            atoms = ase.Atoms(grown["numbers"][k, :n], grown["positions"][k, :n],
                              cell=grown["cell"][k], pbc=[1, 1, 0])
            key = lattice.crystal_key(atoms)
            self.assertEqual(keys[key], (grown["energy"][k], grown["test"][k]))
            self.assertAllClose(images.image(atoms, (256, 256)), grown["image"][k], atol=1e-5)
            copies[key] += 1
        self.assertEqual(sorted(copies.values()), sorted(1 if test else 3 for _, test in
                                                         keys.values()))
        moved = os.path.join(self.get_temp_dir(), "moved")
        proc = testing.run_script("generate_sheets", "--count=1", f"--out={moved}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        proc = testing.run_script("augment_sheets", f"--data={moved}", f"--out={moved}_x")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("is not a crystalline hexagonal sheet set", proc.stderr)
