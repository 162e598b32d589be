"""Training layer: device strategies (MirroredStrategy, Horovod), the one fit entry point with
checkpoints and logs, SavedModel export. Imports from physics, data and models."""
