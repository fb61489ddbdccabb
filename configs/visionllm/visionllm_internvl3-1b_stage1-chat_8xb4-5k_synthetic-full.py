# Three-stage recipe at full size, stage 1 (chat alignment): the InternVL3-1B-sized MLLM learns captioning and
# VQA on the full-size pipelines (448 px tiles, dynamic tiling); the decoders exist but are frozen and unused.
# Real weights: model.mllm.pretrained=<local InternVL3-1B-hf directory>. Then stage 2 (joint) and stage 3.
_base_ = ['./visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py']
max_iters = 5000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=200, end=max_iters, eta_min_ratio=0.05),
]
model = dict(frozen_modules=['decoders'], touch_unused_decoders=False)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'mllm': dict(lr_mult=1.0)}))
train_dataloader = dict(dataset=dict(weights=[0.5, 0.5], datasets=[{{_base_.caption_train}}, {{_base_.vqa_train}}],
                                     _delete_=True, type='MixtureDataset'))
val_dataloader = dict(dataset=dict(datasets=[{{_base_.caption_val}}, {{_base_.vqa_val}}]))
test_dataloader = dict(dataset=dict(datasets=[{{_base_.caption_test}}, {{_base_.vqa_test}}]))
val_evaluator = {{_base_.text_evaluators}}
test_evaluator = {{_base_.text_evaluators}}
