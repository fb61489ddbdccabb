# Image generation ([GEN]) and instruction editing ([EDIT]) of the tiny generalist with diffusers,
# on the embedded text-to-image pairs and edit triples (64 px).
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/gen_decoder_tiny.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
model = dict(decoders=dict(gen={{_base_.gen_decoder}}, edit={{_base_.edit_decoder}}))
optim_wrapper = dict(optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=1.0))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(
    batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='MixtureDataset', weights=[0.5, 0.5], datasets=[{{_base_.gen_train}}, {{_base_.edit_train}}]),
    **loader)
val_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.gen_val}}, {{_base_.edit_val}}]), **loader)
test_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.gen_test}}, {{_base_.edit_test}}]), **loader)
val_evaluator = {{_base_.gen_evaluators}}
test_evaluator = val_evaluator  # the same metrics, on test_dataloader's split
custom_hooks = [dict(type='BadSampleHook'), dict(type='ShowTrainSampleHook'), dict(type='ThroughputHook'),
                dict(type='GenerationGridHook', max_images=16)]
