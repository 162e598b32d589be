"""Train a spin-model preset end to end: plain functions that bin/train_cnn, bin/train_ednn,
the benchmarks and the tests call (no flags here; `tfphys.cli_training` maps flags onto them).

`train_preset(preset, ...)` checks every output path and size first (a bad one costs no
training time), builds the data (generated in memory, a shard folder streamed through
`tfphys.data.pipeline`, or a fresh stream), trains through `fit.train` on the requested
placement, scores the test split and optionally larger lattices, exports, and returns figures.
Only the chief scores and exports; other Horovod ranks return after training.
"""

import dataclasses
import time

import tensorflow as tf
from absl import logging

from tfphys.data import pipeline
from tfphys.errors import InputError
from tfphys.training import export, presets
from tfphys.training.spins import run
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, train

OVERRIDES = ("train_examples", "test_examples", "epochs", "batch_size", "learning_rate",
             "optimizer", "decay", "context", "padding", "augment", "sampler")


def preset_with(name, kind=None, **overrides):
    """Preset `name` (of `kind`, if given) with the non-None `overrides` of its fields."""
    unknown = set(overrides) - set(OVERRIDES)
    if unknown:
        raise InputError(f"cannot override {sorted(unknown)}; fields that can be: {OVERRIDES}")
    return dataclasses.replace(presets.get(name, kind),
                               **{k: v for k, v in overrides.items() if v is not None})


def _claim_outputs(preset, export_dir, run_dir, eval_L):
    claim_outputs(run_dir, [export_dir] if export_dir else [])
    run.check_size(preset, preset.L, preset.batch_size)
    if preset.kind == "ednn" and eval_L:
        run.check_size(preset, eval_L, 1, tiled=True)


def _training_data(preset, dist, data_dir, stream, seed):
    """(data for fit.train, steps per epoch or None, augmentation transform or None)."""
    if stream:
        upscale = preset.upscale_to if preset.kind == "cnn" else None
        steps = max(1, preset.train_examples // preset.batch_size)
        return (lambda epoch: pipeline.stream(
            run.source(preset), preset.batch_size, preset.sampler, preset.label, split="train",
            upscale_to=upscale, seed=[seed, dist.rank], start=epoch * steps)), steps, None
    if data_dir:
        data = run.shard_examples(preset, data_dir, "train")
    else:
        data = run.dataset(preset, *run.examples(preset, "train", seed))
    return data, None, run.augmentation(preset, preset.L)


def _test_chunks(preset, data_dir, seed):
    if preset.test_examples == 0:
        return "all", [run.examples(preset, "all")]
    if data_dir:
        return "test", run.shard_chunks(preset, data_dir, "test")
    return "test", run.draws(preset, "test", seed)


def train_preset(preset, data_dir=None, stream=False, gpus=0, horovod=False, run_dir=None,
                 checkpoint_every=0, export_dir=None, seed=0, target=None, eval_L=0,
                 boltzmann_test=0, verbose=None):
    """Train and score `preset` (a `presets.Preset`, e.g. from `preset_with`). Returns
    {"preset", "replicas", "seconds", "epochs_trained", "examples", "is_chief"} (epochs_trained
    is 0 when a resumed run had nothing left) and, on the chief,
    {"split": "test" or "all", "L", "figures"}, {"eval_L", "eval_figures"} with `eval_L`
    (thermal configurations at T_c), {"boltzmann_figures"} with `boltzmann_test` (that many
    configurations of `run.boltzmann_draws`) and {"export"} with `export_dir`."""
    if stream and data_dir:
        raise InputError("--stream generates its data; drop --data or --stream")
    if stream and preset.augment:
        raise InputError("--stream draws fresh configurations every batch; symmetry "
                         "augmentation is for fixed training sets: add --noaugment")
    dist = Distribution(gpus, horovod)
    _claim_outputs(preset, export_dir, run_dir, eval_L)
    tf.keras.utils.set_random_seed(seed)
    data, steps, transform = _training_data(preset, dist, data_dir, stream, seed)
    config = TrainConfig.of(preset, loss=preset.loss, run_dir=run_dir,
                            checkpoint_every=checkpoint_every, steps_per_epoch=steps, seed=seed,
                            verbose=verbose,
                            target=(("accuracy" if preset.label == "label" else "mae"), target)
                            if target is not None else None)
    if dist.is_chief:
        logging.info("preset %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    start = time.perf_counter()
    model, history = train(lambda: run.build(preset), data, config, dist, transform=transform)
    result = {"preset": preset, "replicas": dist.replicas, "is_chief": dist.is_chief,
              "seconds": time.perf_counter() - start,
              "epochs_trained": len(history.epoch) if history is not None else 0,
              "examples": (f"{int(data.cardinality())} examples" if not callable(data)
                           else f"{steps * preset.batch_size} streamed examples an epoch")}
    if not dist.is_chief:
        return result
    split, chunks = _test_chunks(preset, data_dir, seed)
    figures, _, _, L = run.score_chunks(preset, model, chunks)
    result.update(split=split, L=L, figures=figures)
    if preset.kind == "ednn" and eval_L:
        chunks = run.draws(preset, "test", seed, count=64, L=eval_L, sampler="thermal",
                           temperature=2.269, n_equilibrate=1000)
        result.update(eval_L=eval_L, eval_figures=run.score_chunks(preset, model, chunks)[0])
    if boltzmann_test:
        chunks = run.boltzmann_draws(preset, boltzmann_test, seed)
        result["boltzmann_figures"] = run.score_chunks(preset, model, chunks)[0]
    if export_dir:
        result["export"] = export.export(model, export_dir, run.facts(preset))
    return result
