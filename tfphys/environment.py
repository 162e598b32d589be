"""What the installed stack is and whether its parts work together.

`report()` gathers versions, visible devices and Horovod's build flags; `horovod_allreduce(np)`
starts `np` real Horovod ranks (Gloo, on this host) and sums one tensor across them. Used by
`bin/check_env`, the first thing to run on a new machine or cluster node.
"""

import os
import platform
from importlib import metadata

# Distributions of the stack; TensorFlow is whichever of the CPU or GPU builds is installed.
PACKAGES = (("tensorflow", "tensorflow-cpu"), ("keras",), ("tf-agents",),
            ("tensorflow-probability",), ("horovod",), ("numpy",), ("scipy",), ("ase",),
            ("absl-py",), ("matplotlib",))


def _version(names):
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "NOT INSTALLED"


def versions():
    """{package: installed version} for Python, tfphys and the stack."""
    import tfphys

    out = {"python": platform.python_version(), "tfphys": tfphys.__version__}
    out.update({names[0]: _version(names) for names in PACKAGES})
    return out


def devices():
    """TensorFlow's view of the hardware: physical devices and how TF was built."""
    import tensorflow as tf

    build = tf.sysconfig.get_build_info()
    return {
        "physical": [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()],
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "built_with_cuda": tf.test.is_built_with_cuda(),
        "cuda_version": build.get("cuda_version", "none"),
        "cudnn_version": build.get("cudnn_version", "none"),
    }


def horovod_build():
    """Which controllers and collective libraries Horovod was compiled with."""
    import horovod.tensorflow as hvd

    return {name: bool(getattr(hvd, f"{name}_built")()) for name in
            ("gloo", "mpi", "nccl", "cuda", "rocm", "ddl", "ccl")}


def _allreduce_rank():
    import horovod.tensorflow as hvd
    import tensorflow as tf

    hvd.init()
    total = hvd.allreduce(tf.constant(float(hvd.rank() + 1)), op=hvd.Sum)
    return hvd.rank(), hvd.size(), float(total.numpy())


def horovod_allreduce(np=2):
    """Sum rank+1 over `np` Gloo ranks on this host; returns [(rank, size, total), ...]."""
    from horovod.runner import run

    return sorted(run(_allreduce_rank, np=np, hosts=f"localhost:{np}", use_gloo=True))


def machine():
    """One line describing the host, printed next to every benchmark figure."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
