"""Model export and safe reload.

An export is a folder holding
* `saved_model.pb` + `variables/`: a TensorFlow SavedModel (serving, other languages);
* `model.keras`: the Keras v3 file that `load` revives (architecture as JSON, weights as HDF5);
* `tfphys.json`: what the model is (kind, preset, lattice, label, units, outputs), checked by
  every consumer against what it is asked to do, and the marker that lets a later export
  replace this one. A folder without it is never deleted or overwritten.
It is written under a temporary name and renamed, so a crash never leaves a half-written model.

Loading never runs Python from the file: `load` accepts only the layers of Keras and tfphys
(no `Lambda`, no functions or classes from other modules) and revives them with Keras's
`safe_mode`. A model graph is still a program: run only models you trust.
"""

import json
import os
import shutil
import tempfile
import zipfile

import tensorflow as tf

from tfphys import outputs
from tfphys.errors import InputError

MARKER = "tfphys.json"
FORMAT = "tfphys-model/1"
KERAS_FILE = "model.keras"
_ALLOWED_MODULES = ("keras", "builtins")


def claim(path):
    """Check before any work that `path` may receive an export (new, empty or an old export)."""
    return outputs.claim_dir(path, MARKER, "tfphys model export", "--export")


def write_dir(path, write):
    """Fill a new folder by `write(tmp_folder)` and swap it in at `path` in one rename,
    replacing only an older tfphys export; returns the absolute path."""
    path = claim(path)
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    except OSError as exc:
        raise InputError(f"--export {path}: cannot write there ({exc.strerror})") from None
    try:
        write(tmp)
        if os.path.exists(path):
            old = f"{tmp}.old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
    return path


def export(model, path, metadata=None):
    """Save `model` with `metadata` (what it predicts: kind, preset, L, label, units ...) at
    `path`, replacing only an older tfphys export; returns the absolute path."""
    def write(tmp):
        model.save(tmp, save_format="tf")
        model.save(os.path.join(tmp, KERAS_FILE))
        with open(os.path.join(tmp, MARKER), "w") as handle:
            json.dump({"format": FORMAT, "inputs": list(model.input_shape[1:]),
                       "outputs": int(model.output_shape[-1]), **(metadata or {})}, handle, indent=1)
    return write_dir(path, write)


def metadata(path):
    """The tfphys.json facts of an export (InputError if `path` is not a tfphys export)."""
    marker = os.path.join(path, MARKER)
    if not os.path.isdir(path):
        raise InputError(f"no exported model at {path}; export one with --export DIR of a "
                         "bin/train_* script")
    if not os.path.exists(marker):
        raise InputError(f"{path} is not a tfphys export ({MARKER} is missing; a SavedModel from "
                         "elsewhere or an older tfphys could run code when revived): re-export it "
                         "with bin/train_* --export, or load it yourself with tf.saved_model.load "
                         "if you trust it")
    return outputs.read_marker(marker, FORMAT, "re-export the model")


def check_start(path, kind, absent=None, **settings):
    """InputError unless the export at `path` (a run's `--init`) is of `kind` and was trained
    with these `settings` (tiling and input choices under which other weights can have the
    same shapes: focus, context, ...); returns its metadata. `absent`: what a setting an older
    export does not store meant (its default then)."""
    facts = metadata(path)
    if facts.get("kind") != kind:
        raise InputError(f"--init {path} is a {facts.get('kind')} export; this run needs a {kind}")
    absent = absent or {}
    stored = {name: facts.get("settings", {}).get(name, absent.get(name)) for name in settings}
    if stored != settings:
        raise InputError(f"--init {path} was trained with {stored}, this run uses {settings}; "
                         "pass the same settings")
    return facts


def _unsafe(node, where="model"):
    """The first object in a Keras config that is not a Keras or tfphys layer, or None."""
    if isinstance(node, list):
        return next((bad for item in node if (bad := _unsafe(item, where))), None)
    if not isinstance(node, dict):
        return None
    if node.get("class_name") in ("Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"):
        return f"a {node['class_name']} layer (Python code)"
    module = node.get("module")
    registered = node.get("registered_name") or ""
    tfphys_layer = (registered.startswith("tfphys>")
                    and tf.keras.utils.get_registered_object(registered) is not None)
    if module is not None and not (module.split(".")[0] in _ALLOWED_MODULES or tfphys_layer):
        return f"{node.get('class_name')!r} from module {module!r}"
    return next((bad for value in node.values() if (bad := _unsafe(value, where))), None)


def load(path):
    """The Keras model of a tfphys export, revived without executing code from the file."""
    import tfphys.models.ednn  # noqa: F401  (registers the EDNN layers)
    import tfphys.models.ednn_sliding  # noqa: F401  (registers ContextPadding)
    import tfphys.models.padding  # noqa: F401  (registers PeriodicPadding2D)

    metadata(path)
    keras_file = os.path.join(path, KERAS_FILE)
    for part in (KERAS_FILE, "saved_model.pb", "variables"):
        if not os.path.exists(os.path.join(path, part)):
            raise InputError(f"the export at {path} is incomplete ({part} is missing); re-export it")
    try:
        with zipfile.ZipFile(keras_file) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"{keras_file} is corrupt ({exc}); re-export the model") from None
    bad = _unsafe(config)
    if bad:
        raise InputError(f"refusing to load {path}: it contains {bad}, which would run code that "
                         "is not part of Keras or tfphys; only load models you trust")
    try:
        return tf.keras.models.load_model(keras_file, safe_mode=True, compile=False)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{keras_file} cannot be loaded ({str(exc).splitlines()[0][:200]}); "
                         "re-export the model") from None
