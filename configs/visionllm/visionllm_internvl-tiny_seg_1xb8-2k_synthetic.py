# Open-vocabulary semantic segmentation ([SEG]) of the tiny generalist on the embedded synthetic data.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/seg_decoder_tiny.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
model = dict(decoders=dict(seg={{_base_.seg_decoder}}))
optim_wrapper = dict(optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=1.0))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.seg_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.seg_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.seg_test}}, **loader)
val_evaluator = {{_base_.seg_val_evaluators}}
test_evaluator = {{_base_.seg_test_evaluators}}
