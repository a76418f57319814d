#!/usr/bin/env bash
# The leave-one-kind-out runs behind bench/detect_leave_out.py (issue 27): the shipped recipe,
# each run with one kind of fake never seen in training or validation, on the CC-BY photos and
# the videos (UTKFace left out), one epoch each, so the four runs fit in about 15 minutes on 2 cores.
#   bash scripts/train_leave_out.sh [FACES_NPZ] [EPOCHS]
# FACES_NPZ: the face set scripts/train_real_detector.sh builds (runs/real-128/faces.npz).
# EPOCHS 6 trains each as long as the shipped detector (about 1.5 hours for the four; still without UTKFace).
# Then: python bench/detect_leave_out.py --run mesh_warp=runs/loo-mesh_warp/detector.pt ... (its docstring)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
faces="${1:-$here/runs/real-128/faces.npz}"
epochs="${2:-1}"
bin="${DEEPFAKELAB_BIN:-$here/.venv/bin}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
[ -f "$faces" ] || { echo "no face set at $faces: run scripts/train_real_detector.sh first" >&2; exit 2; }
for kind in mesh_warp reenact,landmark_warp face_swap fomm; do  # the landmark warp has two names
  "$bin/deepfakelab" detect-train "$faces" --out "$here/runs/loo-${kind%%,*}" --epochs "$epochs" --hold-out "$kind" --without utkface/ --no-explain \
    --arch mobilenet_v2 --keep last --batch-size 32 --lr 1e-3 --freeze-blocks 7 --mask-weight 16 --online-blends \
    --identity-adversary 1 --h264 0.3 --threads "$OMP_NUM_THREADS"
done
