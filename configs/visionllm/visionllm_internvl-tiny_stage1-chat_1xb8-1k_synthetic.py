# Three-stage recipe, stage 1 (chat alignment): captioning + VQA only, the MLLM learns to talk about images.
_base_ = ['./visionllm_internvl-tiny_text_1xb8-2k_synthetic.py']
max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min_ratio=0.05),
]
