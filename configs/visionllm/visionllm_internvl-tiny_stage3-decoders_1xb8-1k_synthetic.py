# Three-stage recipe, stage 3 (decoders only): the MLLM and query banks are frozen, the specialist
# decoders keep training on their tasks; loaded from stage 2.
_base_ = ['./visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic.py']
load_from = 'work_dirs/visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic/iter_3000.pth'
max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min_ratio=0.05),
]
model = dict(frozen_modules=['mllm', 'superlink'])
