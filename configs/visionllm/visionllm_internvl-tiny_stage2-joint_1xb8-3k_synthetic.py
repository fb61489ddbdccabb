# Three-stage recipe, stage 2 (joint multitask): every task and decoder family, loaded from stage 1.
# Batches are task-grouped (one decoder family per step on every rank); unused decoders get a zero loss
# so DDP / ZeRO stay in step if you switch to mixed batches (batch_sampler=None).
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/det_decoder_tiny.py',
    '../_base_/models/seg_decoder_tiny.py', '../_base_/models/pose_decoder_tiny.py',
    '../_base_/models/gen_decoder_tiny.py', '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py',
    '../_base_/default_runtime.py'
]
load_from = 'work_dirs/visionllm_internvl-tiny_stage1-chat_1xb8-1k_synthetic/iter_1000.pth'
max_iters = 3000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min_ratio=0.05),
]
model = dict(decoders=dict(det={{_base_.det_decoder}}, seg={{_base_.seg_decoder}}, pose={{_base_.pose_decoder}},
                           gen={{_base_.gen_decoder}}, edit={{_base_.edit_decoder}}),
             loss_weights=dict(lm=1.0, det=1.0, seg=1.0, pose=1.0, gen=1.0, edit=1.0),
             touch_unused_decoders=True, test_cfg=dict(max_new_tokens=160))
optim_wrapper = dict(
    optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=0.1),
    paramwise_cfg=dict(bypass_duplicate=True, custom_keys={
        'mllm': dict(lr_mult=1.0), 'superlink': dict(lr_mult=2.5), 'backbone': dict(lr_mult=1.0),
        'sampling_offsets': dict(lr_mult=0.5)}))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(
    batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='TaskGroupedBatchSampler'),
    dataset=dict(type='MixtureDataset', weights=[0.3, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15],
                 datasets=[{{_base_.det_train}}, {{_base_.grd_train}}, {{_base_.seg_train}}, {{_base_.pose_train}},
                           {{_base_.gen_train}}, {{_base_.edit_train}}, {{_base_.caption_train}},
                           {{_base_.vqa_train}}]),
    **loader)
val_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TaskConcatDataset',
                 datasets=[{{_base_.det_val}}, {{_base_.grd_val}}, {{_base_.seg_val}}, {{_base_.pose_val}},
                           {{_base_.gen_val}}, {{_base_.edit_val}}, {{_base_.caption_val}}, {{_base_.vqa_val}}]),
    **loader)
test_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TaskConcatDataset',
                 datasets=[{{_base_.det_test}}, {{_base_.grd_test}}, {{_base_.seg_test}}, {{_base_.pose_test}},
                           {{_base_.gen_test}}, {{_base_.edit_test}}, {{_base_.caption_test}}, {{_base_.vqa_test}}]),
    **loader)
val_evaluator = {{_base_.all_val_evaluators}}
test_evaluator = {{_base_.all_test_evaluators}}
custom_hooks = [dict(type='BadSampleHook'), dict(type='ShowTrainSampleHook'), dict(type='ThroughputHook'),
                dict(type='GenerationGridHook', max_images=16),
                dict(type='PeriodicInferenceHook', interval=1000, prompts=[
                    dict(image='data/synthetic/images/val/000000.png', task='det',
                         texts='red circle . purple star . blue square'),
                    dict(image='data/synthetic/images/val/000000.png', task='chat',
                         question='Describe the image briefly.')])]
