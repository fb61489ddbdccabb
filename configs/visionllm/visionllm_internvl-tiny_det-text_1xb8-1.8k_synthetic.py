# The main job: the tiny generalist trained jointly on captioning, VQA and open-vocabulary detection with
# instance masks on the embedded synthetic data; evaluated on text metrics, box/mask mAP (seen and
# held-out names) and the routing accuracy of free generation.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/det_decoder_tiny.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
max_iters = 1800  # 10.5 min of training at 0.35 s/iteration; this machine varies 0.35-1.0 s/iteration (docs/results.md)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min_ratio=0.05),
]
# the decoders' gradient into the LLM at 0.1 (docs/design_notes.md): unscaled, it is ~10x the LM loss's at the tied
# token embeddings, and the LLM learns less from its own loss
model = dict(decoders=dict(det={{_base_.det_decoder}}), superlink=dict(decoder_grad_scale=0.1),
             test_cfg=dict(max_new_tokens=160))
optim_wrapper = dict(
    optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=0.1),
    # the from-scratch LLM and the query banks learn faster; tied LLM embeddings need bypass_duplicate
    paramwise_cfg=dict(bypass_duplicate=True, custom_keys={'mllm': dict(lr_mult=2.5), 'superlink': dict(lr_mult=2.5)}))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(
    batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='MixtureDataset', weights=[0.55, 0.1, 0.15, 0.2],
                 datasets=[{{_base_.det_train}}, {{_base_.grd_train}}, {{_base_.caption_train}},
                           {{_base_.vqa_train}}]), **loader)
val_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', ignore_keys=['classes', 'palette'],
                 datasets=[{{_base_.det_val}}, {{_base_.det_free_val}}, {{_base_.grd_val}}, {{_base_.caption_val}},
                           {{_base_.vqa_val}}, {{_base_.det_free_held_val}}, {{_base_.grd_free_held_val}}]),
    **loader)
test_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', ignore_keys=['classes', 'palette'],
                 datasets=[{{_base_.det_test}}, {{_base_.det_free_test}}, {{_base_.grd_test}}, {{_base_.caption_test}},
                           {{_base_.vqa_test}}, {{_base_.det_free_held_test}}, {{_base_.grd_free_held_test}}]),
    **loader)
val_evaluator = _base_.det_text_val_evaluators + _base_.free_held_val_evaluators
test_evaluator = _base_.det_text_test_evaluators + _base_.free_held_test_evaluators
default_hooks = dict(checkpoint=dict(interval=500), logger=dict(interval=50))
