# InternVL3-1B-sized generalist with all five full-size decoder families, trained jointly on the task-grouped
# mixture of every task, at full-size resolutions (448 px tiles, up to 6 + thumbnail; decoders at 512 px).
# For GPUs; CI builds it at real widths with each stack cut to one layer and runs a training step and a
# prediction per decoder family (tests/models/test_full_size.py).
# Real weights: model.mllm.pretrained=<local InternVL3-1B-hf directory> (its tile size is read from it).
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/decoders_full.py',
    '../_base_/models/internvl3_mllm.py', '../_base_/datasets/synthetic_full.py', '../_base_/schedules/adamw_2k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    mllm={{_base_.internvl3_1b_mllm}},
    superlink=dict(slot_attention='causal'),  # a pretrained LLM reads names through causal attention
    decoders=dict(det={{_base_.full_det_decoder}}, seg={{_base_.full_seg_decoder}}, pose={{_base_.full_pose_decoder}},
                  gen={{_base_.full_gen_decoder}}, edit={{_base_.full_edit_decoder}}),
    loss_weights=dict(lm=1.0, det=1.0, seg=1.0, pose=1.0, gen=1.0, edit=1.0),
    max_length=4096, test_cfg=dict(max_new_tokens=512), touch_unused_decoders=True)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', optimizer=dict(lr=1e-4), clip_grad=dict(max_norm=1.0),
                     paramwise_cfg=dict(bypass_duplicate=True, custom_keys={
                         'mllm': dict(lr_mult=0.1), 'backbone': dict(lr_mult=0.1),
                         'sampling_offsets': dict(lr_mult=0.1), 'reference_points': dict(lr_mult=0.1)}))
max_iters = 20000
train_cfg = dict(max_iters=max_iters, val_interval=2000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=max_iters, eta_min_ratio=0.05),
]
loader = dict(num_workers=4, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
eval_sets = dict(type='TaskConcatDataset')
train_dataloader = dict(
    batch_size=4, sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='TaskGroupedBatchSampler'),  # one decoder family per step on every rank
    dataset=dict(type='MixtureDataset', weights=[0.3, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15],
                 datasets=[{{_base_.det_train}}, {{_base_.grd_train}}, {{_base_.seg_train}}, {{_base_.pose_train}},
                           {{_base_.gen_train}}, {{_base_.edit_train}}, {{_base_.caption_train}},
                           {{_base_.vqa_train}}]),
    **loader)
val_dataloader = dict(
    batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(datasets=[{{_base_.det_val}}, {{_base_.grd_val}}, {{_base_.seg_val}}, {{_base_.pose_val}},
                           {{_base_.gen_val}}, {{_base_.edit_val}}, {{_base_.caption_val}}, {{_base_.vqa_val}}],
                 **eval_sets),
    **loader)
test_dataloader = dict(
    batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(datasets=[{{_base_.det_test}}, {{_base_.grd_test}}, {{_base_.seg_test}}, {{_base_.pose_test}},
                           {{_base_.gen_test}}, {{_base_.edit_test}}, {{_base_.caption_test}}, {{_base_.vqa_test}}],
                 **eval_sets),
    **loader)
val_evaluator = {{_base_.all_val_evaluators}}
test_evaluator = {{_base_.all_test_evaluators}}
custom_hooks = [dict(type='BadSampleHook'), dict(type='ThroughputHook'), dict(type='GenerationGridHook', max_images=16)]
