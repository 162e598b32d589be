"""Model layer: Keras layers and model builders (Mills CNN, EDNN). Imports nothing from
training, rl or bin; every custom layer is registered for serialization under "tfphys"."""
