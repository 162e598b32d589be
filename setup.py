"""tfphys: TensorFlow/Keras toolkit for the methods of K. Mills, "On deep learning in physics"."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _pins(name):
    """Requirement lines of requirements/<name>.txt (comments and -r includes dropped)."""
    with open(os.path.join(HERE, "requirements", f"{name}.txt")) as handle:
        lines = (line.split("#")[0].strip() for line in handle)
        return [line for line in lines if line and not line.startswith("-")]


with open(os.path.join(HERE, "tfphys", "__init__.py")) as handle:
    VERSION = re.search(r'__version__ = "([^"]+)"', handle.read()).group(1)

setup(
    name="tfphys",
    version=VERSION,
    description="Deep learning for physics: spin-model and Schrodinger CNNs, EDNN, WGAN-GP, "
                "PPO-driven annealing",
    packages=find_packages(include=["tfphys", "tfphys.*"]),
    python_requires=">=3.9,<3.12",
    install_requires=_pins("base"),
    extras_require={"cpu": _pins("cpu"), "gpu": _pins("gpu"), "horovod": _pins("horovod")},
)
