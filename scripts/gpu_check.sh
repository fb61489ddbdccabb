#!/usr/bin/env bash
# The full-size path on a GPU machine, in one run: install, embedded data, then for the InternVL3-1B config
# (all five decoder families, 448 px tiles): the bf16 train-step time split, FLOPs per step and MFU, peak
# memory; prompted and free detection latency; a short ZeRO-2 run on the GPUs present. Every number is
# printed by tools/benchmark.py / tools/train.py; the log goes to work_dirs/gpu_check/log.txt.
#
#   bash scripts/gpu_check.sh            # GPU: the config as it is
#   bash scripts/gpu_check.sh --cpu-cut  # no GPU: the same steps on CPU, one layer per stack (cut_depth)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-gpu}
CFG=configs/visionllm/visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py
OUT=work_dirs/gpu_check
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1

scripts/setup_env.sh --deepspeed
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=$PWD
PY=.venv/bin/python
[ -f data/synthetic/meta.json ] || $PY tools/generate_data.py data/synthetic

if [ "$MODE" = --cpu-cut ]; then
  DEVICE=(--device cpu); LATENCY=(--device cpu); CUT=(--cut-depth); NPROC=1; ITERS=2
else
  DEVICE=(--device cuda --bf16); LATENCY=(--device cuda); CUT=(); ITERS=20
  NPROC=$($PY -c 'import torch; print(torch.cuda.device_count())')
  [ "$NPROC" -ge 1 ] || { echo "no CUDA device: run with --cpu-cut" >&2; exit 2; }
  $PY -c 'import torch; print("device:", torch.cuda.get_device_name(0), "x", torch.cuda.device_count())'
fi

echo "== train step ($MODE)"
$PY tools/benchmark.py step "$CFG" "${DEVICE[@]}" "${CUT[@]}" --iters 3
echo "== detection latency, prompted and free ($MODE)"
$PY tools/benchmark.py latency "$CFG" "${LATENCY[@]}" "${CUT[@]}" --num-classes 30

echo "== ZeRO-2, $NPROC process(es), $ITERS iterations"
RUN_CFG=$OUT/config.py
$PY - "$CFG" "$RUN_CFG" "$MODE" <<'EOF'
import os.path as osp
import sys

from mmengine.config import Config
from visionllm.apis.cut_depth import cut_depth
cfg = Config.fromfile(sys.argv[1])
if not osp.isdir(cfg.model.mllm.tokenizer.path):  # random init: the offline BPE (vocabulary from the config)
    cfg.model.mllm.tokenizer = dict(path='data/tokenizers/synthetic-bpe', train_if_missing=True)
if sys.argv[3] == '--cpu-cut':
    cut_depth(cfg)
    cfg.optim_wrapper.type = 'OptimWrapper'  # fp32 steps on the CPU (DeepSpeed's CPU path)
    cfg.optim_wrapper.pop('dtype', None)
cfg.train_dataloader.num_workers, cfg.train_dataloader.persistent_workers = 0, False
cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None  # training steps only (the end-of-run validation
# of a random-init model over every task takes longer than the steps)
cfg.dump(sys.argv[2])
EOF
rc=0
/usr/bin/time -v tools/dist_train.sh "$RUN_CFG" "$NPROC" --deepspeed zero2 --work-dir "$OUT/zero2" \
  --cfg-options train_cfg.max_iters=$ITERS train_cfg.val_interval=100000 default_hooks.logger.interval=1 \
  default_hooks.checkpoint.interval=100000 default_hooks.checkpoint.save_last=False > "$OUT/zero2.log" 2>&1 || rc=$?
grep -E "Iter\(train\)|Maximum resident|Elapsed|Error|error" "$OUT/zero2.log" || true
[ "$rc" = 0 ] || { echo "ZeRO-2 run failed (exit $rc): $OUT/zero2.log" >&2; exit "$rc"; }
echo "== done: $OUT/log.txt"
