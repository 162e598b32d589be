"""Training layer: device strategies (MirroredStrategy, Horovod), the one fit entry point with
checkpoints and logs, SavedModel export, and each system's presets and scores (`spins/`,
`adversarial/`, and one module per other system). Imports from physics, data and models."""
