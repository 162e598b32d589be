#!/usr/bin/env bash
# Create (or bring up to date) the virtualenv with the pinned tfphys stack, Horovod built against
# it (Gloo; NCCL too on GPU machines) and tfphys itself in editable mode.
#
# Idempotent: when nothing it depends on changed, a second run returns in about a second.
# Settings (environment variables):
#   TFPHYS_VENV    where the virtualenv lives            (default: .venv in the repository)
#   TFPHYS_DEVICE  cpu | gpu | auto                      (default: auto = gpu if nvidia-smi sees one)
#   PYTHON         interpreter for the venv, 3.9-3.11    (default: python3.11, else python3)
# The Dockerfiles in docker/ run this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${TFPHYS_VENV:-.venv}
device=${TFPHYS_DEVICE:-auto}
if [ "$device" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then device=gpu; else device=cpu; fi
fi
case "$device" in cpu|gpu) ;; *) echo "setup: TFPHYS_DEVICE must be cpu, gpu or auto, not '$device'" >&2; exit 2;; esac
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

key=$( (echo "$device $python"; cat requirements/*.txt setup.py scripts/setup.sh) | sha256sum | cut -d' ' -f1)
stamp="$venv/.tfphys-setup"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  echo "setup: $venv is up to date ($device)"
  exit 0
fi

"$python" - <<'PY' || { echo "setup: TensorFlow 2.15 needs Python 3.9-3.11; set PYTHON=/path/to/python3.11" >&2; exit 2; }
import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else 1)
PY
echo "setup: building $venv for $device with $("$python" --version)"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q pip==24.0 setuptools==69.5.1 wheel==0.43.0
"${pip[@]}" install -q -r "requirements/$device.txt" -c requirements/constraints.txt

# Horovod compiles against the TensorFlow just installed: no build isolation, Gloo always,
# NCCL for GPU allreduce. cmake >= 4 rejects Gloo's old CMakeLists without the policy floor.
export CMAKE_POLICY_VERSION_MINIMUM=3.5 HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 \
  HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 MAKEFLAGS="-j$(nproc)"
if [ "$device" = gpu ]; then export HOROVOD_GPU_OPERATIONS=NCCL; fi
horovod_ok() { "$venv/bin/python" -c "import horovod.tensorflow as h; h.gloo_built() or exit(1)" 2>/dev/null; }
if ! horovod_ok; then
  echo "setup: building Horovod (several minutes the first time; pip caches the wheel)"
  "${pip[@]}" install -q --no-build-isolation -r requirements/horovod.txt -c requirements/constraints.txt
  if ! horovod_ok; then  # a cached wheel built against another TensorFlow: rebuild it
    "${pip[@]}" install -q --no-build-isolation --no-cache-dir --force-reinstall --no-deps \
      -r requirements/horovod.txt
    horovod_ok || { echo "setup: Horovod does not import after a clean build" >&2; exit 1; }
  fi
fi

"${pip[@]}" install -q --no-deps -e .
echo "$key" > "$stamp"
echo "setup: done; activate with 'source $venv/bin/activate'"
