"""Exports: SavedModel + Keras file + tfphys.json; loading never runs code from the file, an
export never replaces a folder tfphys did not write, broken exports are one clear error."""

import json
import os
import shutil

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.training import export


def _model():
    tf.keras.utils.set_random_seed(0)
    return ednn.ednn(ednn.mlp_brain(1, 1), 1, 1)


class ExportTest(tf.test.TestCase):
    def test_export_carries_its_facts_and_reloads_the_same_predictions(self):
        model = _model()
        path = export.export(model, os.path.join(self.get_temp_dir(), "m"), {"label": "energy"})
        self.assertEqual(export.metadata(path)["label"], "energy")
        self.assertEqual(export.metadata(path)["outputs"], 1)
        self.assertTrue(os.path.exists(os.path.join(path, "saved_model.pb")))
        x = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 12, 12, 1)).astype(np.float32)
        self.assertAllClose(export.load(path)(x), model(x), atol=1e-5)

    def test_a_model_with_python_code_is_refused_without_running_it(self):
        witness = os.path.join(self.get_temp_dir(), "ran")
        inputs = tf.keras.Input((4,))
        touch = lambda t: (open(witness, "w").close(), t)[1]  # noqa: E731
        hostile = tf.keras.Model(inputs, tf.keras.layers.Lambda(touch)(inputs))
        path = export.export(hostile, os.path.join(self.get_temp_dir(), "hostile"))
        os.remove(witness)  # building the model ran it once; loading must not
        with self.assertRaisesRegex(InputError, "refusing to load .*Lambda layer"):
            export.load(path)
        self.assertFalse(os.path.exists(witness))
        # a config naming a function of another module (here os.system) is refused as well
        keras_file = os.path.join(path, export.KERAS_FILE)
        shutil.copy(os.path.join(export.export(_model(), os.path.join(self.get_temp_dir(), "ok")),
                                 export.KERAS_FILE), keras_file)
        import zipfile

        with zipfile.ZipFile(keras_file) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        text = files["config.json"].decode()
        self.assertIn('"activation": "relu"', text)
        files["config.json"] = text.replace('"activation": "relu"', '"activation": {"module": "os", '
                                            '"class_name": "function", "config": "system", '
                                            '"registered_name": "system"}', 1).encode()
        with zipfile.ZipFile(keras_file, "w") as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        with self.assertRaisesRegex(InputError, "from module 'os'"):
            export.load(path)

    def test_an_export_never_replaces_a_folder_it_did_not_write(self):
        user = os.path.join(self.get_temp_dir(), "user")
        os.makedirs(user)
        with open(os.path.join(user, "notes.txt"), "w") as handle:
            handle.write("mine")
        with self.assertRaisesRegex(InputError, "already holds files that are not a tfphys"):
            export.export(_model(), user)
        self.assertEqual(os.listdir(user), ["notes.txt"])
        with self.assertRaisesRegex(InputError, "is an existing file"):
            export.export(_model(), os.path.join(user, "notes.txt"))
        with self.assertRaisesRegex(InputError, "cannot write|not writable"):
            export.export(_model(), "/proc/tfphys_export")
        path = export.export(_model(), os.path.join(self.get_temp_dir(), "again"))
        export.export(_model(), path)  # replacing its own export is fine, and leaves no temporaries
        self.assertEqual(sorted(os.listdir(self.get_temp_dir())), ["again", "user"])

    def test_broken_or_foreign_exports_are_one_clear_error(self):
        path = export.export(_model(), os.path.join(self.get_temp_dir(), "m"))
        foreign = os.path.join(self.get_temp_dir(), "foreign")
        _model().save(foreign, save_format="tf")  # a plain SavedModel, no tfphys.json
        with self.assertRaisesRegex(InputError, "not a tfphys export"):
            export.load(foreign)
        with self.assertRaisesRegex(InputError, "no exported model"):
            export.load(os.path.join(self.get_temp_dir(), "missing"))
        with open(os.path.join(path, export.KERAS_FILE), "wb") as handle:
            handle.write(b"garbage")
        with self.assertRaisesRegex(InputError, "model.keras is corrupt"):
            export.load(path)
        os.remove(os.path.join(path, export.KERAS_FILE))
        with self.assertRaisesRegex(InputError, "incomplete"):
            export.load(path)
        with open(os.path.join(path, export.MARKER), "w") as handle:
            handle.write("[]")
        with self.assertRaisesRegex(InputError, "expected .tfphys-model/1"):
            export.load(path)
