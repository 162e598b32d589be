"""tfphys: deep learning for physics, after K. Mills, "On deep learning in physics" (2021).

Importing the package is cheap: subpackages (physics, data, models, training, rl) import
TensorFlow only when they are used.
"""

__version__ = "0.1.0"
