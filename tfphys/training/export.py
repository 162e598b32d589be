"""SavedModel export: written under a temporary name and renamed, so a crash never leaves a
half-written model where a finished one is expected."""

import os
import shutil
import tempfile

import tensorflow as tf

from tfphys.errors import InputError


def export(model, path):
    """Save `model` as a SavedModel at `path` (replacing an older export); returns `path`."""
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        model.save(tmp, save_format="tf")
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


def load(path):
    """Reload an exported model as Keras (tfphys layers are registered by importing tfphys.models)."""
    import tfphys.models.ednn  # noqa: F401  (registers the EDNN layers)
    import tfphys.models.padding  # noqa: F401  (registers PeriodicPadding2D)

    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise InputError(f"no exported model at {path} (saved_model.pb is missing); export one "
                         "with bin/train_ednn or bin/train_cnn --export DIR")
    return tf.keras.models.load_model(path)
