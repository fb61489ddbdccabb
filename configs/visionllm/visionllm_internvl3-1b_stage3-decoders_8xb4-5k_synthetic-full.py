# Three-stage recipe at full size, stage 3 (decoders only): the MLLM and the query banks are frozen, the
# specialist decoders keep training on their tasks; loaded from stage 2.
_base_ = ['./visionllm_internvl3-1b_stage2-joint_8xb4-20k_synthetic-full.py']
load_from = 'work_dirs/visionllm_internvl3-1b_stage2-joint_8xb4-20k_synthetic-full/iter_20000.pth'
max_iters = 5000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=200, end=max_iters, eta_min_ratio=0.05),
]
model = dict(frozen_modules=['mllm', 'superlink'])
