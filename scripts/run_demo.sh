#!/usr/bin/env bash
# The web demo (one tab per task) on the main job's checkpoint: run `bash scripts/run_main.sh` first, then
# `bash scripts/run_demo.sh` and open http://127.0.0.1:7860. Extra arguments go to tools/demo.py
# (e.g. --host 0.0.0.0 --port 8080). Offline: nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py}
WORK=${WORK_DIR:-work_dirs/$(basename "$CONFIG" .py)}
scripts/setup_env.sh --demo
if [ ! -f "$WORK/last_checkpoint" ]; then
  echo "no checkpoint in $WORK: train it first with bash scripts/run_main.sh" >&2
  exit 1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python tools/demo.py "$CONFIG" --weights "$(cat "$WORK/last_checkpoint")" "$@"
