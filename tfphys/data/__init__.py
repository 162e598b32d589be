"""Data layer: train/test split, sharded on-disk datasets, tf.data pipelines and generators.
Imports from tfphys.physics only."""
