#!/usr/bin/env bash
# Command B: set up .venv (with test tools) and run lint + the test suite on CPU, offline: two pytest-xdist
# workers (one thread each; PYTEST_WORKERS=N to change), a module's tests in one worker (shared fixtures),
# the 25 slowest tests listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh --tests --deepspeed
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=$PWD
.venv/bin/ruff check .
.venv/bin/python -m pytest tests -n "${PYTEST_WORKERS:-2}" --dist loadscope "$@"
