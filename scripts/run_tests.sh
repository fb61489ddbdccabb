#!/usr/bin/env bash
# Command B: set up .venv (with test tools) and run lint + the test suite on CPU, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh --tests --deepspeed
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=$PWD
.venv/bin/ruff check .
.venv/bin/python -m pytest tests "$@"
