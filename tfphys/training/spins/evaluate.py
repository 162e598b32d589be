"""Accuracy figures of trained operators: median absolute error for regression; accuracy,
confusion matrix and class-distance histogram for energy classification."""

import numpy as np

from tfphys.errors import InputError


def regression(predicted, true):
    """{median_abs_error, mean_abs_error, max_abs_error, count} of predictions vs labels."""
    predicted, true = np.asarray(predicted, np.float64).reshape(-1), np.asarray(true, np.float64).reshape(-1)
    if predicted.shape != true.shape:
        raise InputError(f"{predicted.size} predictions for {true.size} labels")
    err = np.abs(predicted - true)
    return {"median_abs_error": float(np.median(err)), "mean_abs_error": float(err.mean()),
            "max_abs_error": float(err.max()), "count": int(err.size)}


def classification(logits, true, n_classes):
    """{accuracy, within_one, max_class_error, confusion, count} from logits (or class indices)."""
    logits = np.asarray(logits)
    predicted = logits.argmax(axis=-1) if logits.ndim == 2 else logits.astype(np.int64)
    true = np.asarray(true, np.int64).reshape(-1)
    if predicted.shape != true.shape:
        raise InputError(f"{predicted.size} predictions for {true.size} labels")
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (true, predicted), 1)
    distance = np.abs(predicted - true)
    return {"accuracy": float((distance == 0).mean()), "within_one": float((distance <= 1).mean()),
            "max_class_error": int(distance.max()), "confusion": confusion, "count": int(true.size)}
