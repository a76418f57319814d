#!/usr/bin/env bash
# Install deepfakelab for working on the labs: the kit with its `lab` extra (JupyterLab, ipykernel,
# nbgrader's Assignments tab), then a check that it imports and finds its shipped weights.
#
# One script for every way the kit is installed for students: by hand on a laptop, in the
# Dockerfile of a JupyterHub image, and in the slow test that installs the built wheel into a
# fresh venv (tests/kit/test_install.py).
#
# usage: scripts/install-kit.sh [--venv DIR] [--python PYTHON] [--extra PACKAGE]... [KIT]
#   KIT        a wheel (deepfakelab-*.whl) or the repository folder (default: this script's repository)
#   --venv     create (or reuse) a virtual environment there and install into it
#   --python   the Python to install with or to make the venv from (default: python3; 3.11 or newer)
#   --extra    one more package to install beside the kit (e.g. jupyterhub==5.3.0 in a hub image)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kit="$(dirname "$here")"
python="python3"
venv=""
extras=()
while [ $# -gt 0 ]; do
    case "$1" in
        --venv) venv="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --extra) extras+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "install-kit.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) kit="$1"; shift ;;
    esac
done

if [ ! -e "$kit" ]; then
    echo "install-kit.sh: $kit: no such wheel or folder" >&2
    exit 2
fi
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "deepfakelab needs Python 3.11 or newer"' || {
    echo "install-kit.sh: $python is older than Python 3.11" >&2; exit 2; }

if [ -n "$venv" ]; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    python="$venv/bin/python"
fi

# A wheel or a folder, with the extra that students need: pip builds a folder into a wheel first,
# so both paths install the same files.
"$python" -m pip install --quiet "$(cd "$(dirname "$kit")" && pwd)/$(basename "$kit")[lab]" ${extras[@]+"${extras[@]}"}

# The kit imports, its command runs, and the weights the labs load are inside the installed package.
"$python" - <<'EOF'
from importlib.resources import files

import deepfakelab
from deepfakelab.reenact.fomm.checkpoint import SHIPPED_WEIGHTS

package = files("deepfakelab")
for part in (SHIPPED_WEIGHTS, "assets/fashion_classifier.pt", "detect/weights/detector.pt", "configs/vox-256.yaml"):
    assert package.joinpath(part).is_file(), f"the installed kit lacks deepfakelab/{part}"
print(f"deepfakelab {deepfakelab.__version__} installed in {deepfakelab.__file__.rsplit('/', 2)[0]}")
EOF
"$python" -m deepfakelab --version
