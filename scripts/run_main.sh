#!/usr/bin/env bash
# Command A: set up .venv, generate the embedded data, train the tiny generalist (text + open-vocabulary
# detection + instance masks), evaluate it and draw an open-vocabulary detection picture.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py}
NAME=$(basename "$CONFIG" .py)
WORK=${WORK_DIR:-work_dirs/$NAME}
scripts/setup_env.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=.venv/bin/python
$PY tools/generate_data.py data/synthetic
$PY tools/train.py "$CONFIG" --work-dir "$WORK"
CKPT=$(cat "$WORK/last_checkpoint")
# the test split's metrics (drawing every test sample with --show-dir would add minutes: pictures come next)
$PY tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK"
# held-out names (never seen in training) next to seen ones
$PY tools/infer.py data/synthetic/images/test "$CONFIG" --weights "$CKPT" --batch-size 8 \
  --texts 'red circle . blue square . purple star . orange circle . green star . yellow cross' \
  --out-dir "$WORK/infer"
echo "main job done: checkpoint $CKPT, pictures in $WORK/infer/vis"
