# Open-vocabulary detection + instance masks of the tiny generalist on the embedded synthetic data.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/det_decoder_tiny.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
model = dict(decoders=dict(det={{_base_.det_decoder}}), test_cfg=dict(max_new_tokens=160))
optim_wrapper = dict(
    optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=0.1),
    # the from-scratch LLM and the query banks learn faster; tied LLM embeddings need bypass_duplicate
    paramwise_cfg=dict(bypass_duplicate=True, custom_keys={'mllm': dict(lr_mult=2.5), 'superlink': dict(lr_mult=2.5)}))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.det_train}}, **loader)
val_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.det_val}}, {{_base_.det_free_val}}]), **loader)
test_dataloader = dict(
    batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.det_test}}, {{_base_.det_free_test}}]), **loader)
val_evaluator = {{_base_.det_val_evaluators}}
test_evaluator = {{_base_.det_test_evaluators}}
