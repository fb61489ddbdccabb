#!/usr/bin/env bash
# Create .venv (if absent) and install visionllm with the measured dependency set.
# Usage: scripts/setup_env.sh [--tests] [--deepspeed] [--demo] [--mmcv-ops]
#   --tests      also install pytest + ruff + selenium (and the system's Chromium + chromedriver with apt-get,
#                for the web demo's browser test; --demo is implied)
#   --demo       also install gradio (tools/demo.py)
#   --deepspeed  also install deepspeed (FlexibleRunner ZeRO path)
#   --mmcv-ops   compile mmcv's C++ ops for CPU (~15 min); without them mmcv's PyTorch paths are used
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=0; DS=0; OPS=0; DEMO=0
for a in "$@"; do
  case "$a" in
    --tests) TESTS=1; DEMO=1 ;; --deepspeed) DS=1 ;; --mmcv-ops) OPS=1 ;; --demo) DEMO=1 ;;
    *) echo "unknown flag: $a (expected --tests, --deepspeed, --demo, --mmcv-ops)" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
C=(-c requirements/constraints.txt -c requirements/lock.txt)
stamp=.venv/.visionllm-installed
hash="$(cat requirements/*.txt setup.py | sha1sum | cut -c1-12)"
want="$hash-t$TESTS-d$DS-o$OPS-g$DEMO"
if [ -f "$stamp" ]; then  # up to date: same requirements, and every extra asked for already installed
  IFS=- read -r h t d o g < "$stamp" || true
  g=${g:-g0}
  if [ "$h" = "$hash" ] && [ "${t#t}" -ge "$TESTS" ] && [ "${d#d}" -ge "$DS" ] && [ "${o#o}" -ge "$OPS" ] \
     && [ "${g#g}" -ge "$DEMO" ]; then
    echo "[setup] .venv is up to date"; exit 0
  fi
  TESTS=$(( TESTS > ${t#t} ? TESTS : ${t#t} )); DS=$(( DS > ${d#d} ? DS : ${d#d} )); OPS=$(( OPS > ${o#o} ? OPS : ${o#o} ))
  DEMO=$(( DEMO > ${g#g} ? DEMO : ${g#g} ))
  want="$hash-t$TESTS-d$DS-o$OPS-g$DEMO"
fi
t0=$(date +%s)
"${PIP[@]}" install "${C[@]}" --upgrade pip setuptools wheel
"${PIP[@]}" install "${C[@]}" torch==2.13.0 numpy cython
# xtcocotools' wheel is built against numpy 1; build it from source against numpy 2.
.venv/bin/python -c "import xtcocotools" 2>/dev/null || \
  "${PIP[@]}" install "${C[@]}" --no-build-isolation --no-binary xtcocotools xtcocotools
"${PIP[@]}" install "${C[@]}" -r requirements/runtime.txt
# mmpose's declared deps pull torchvision/chumpy, which neither load nor are needed here.
"${PIP[@]}" install "${C[@]}" --no-deps mmpose
[ "$DEMO" = 1 ] && "${PIP[@]}" install "${C[@]}" -r requirements/demo.txt
[ "$TESTS" = 1 ] && "${PIP[@]}" install "${C[@]}" -r requirements/tests.txt
if [ "$TESTS" = 1 ] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  # the web demo's browser test drives the system's Chromium
  if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo -n); else SUDO=(false); fi
  { "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
    { "${SUDO[@]}" apt-get update -q >/dev/null 2>&1 && \
      "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1; }; } || \
    echo "[setup] could not install chromium + chromium-driver with apt-get: the browser test will be skipped" >&2
fi
[ "$DS" = 1 ] && "${PIP[@]}" install "${C[@]}" deepspeed
if [ "$OPS" = 1 ]; then
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} "${PIP[@]}" install "${C[@]}" --no-build-isolation \
    --no-cache-dir --force-reinstall --no-deps --no-binary onedl-mmcv onedl-mmcv
fi
"${PIP[@]}" install "${C[@]}" --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo "[setup] done in $(( $(date +%s) - t0 )) s"
