# Text tasks (captioning + VQA) of the tiny generalist on the embedded synthetic data.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(
    batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.caption_train}}, {{_base_.vqa_train}}]), **loader)
val_dataloader = dict(
    batch_size=16, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.caption_val}}, {{_base_.vqa_val}}]), **loader)
test_dataloader = dict(
    batch_size=16, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.caption_test}}, {{_base_.vqa_test}}]), **loader)
val_evaluator = {{_base_.text_evaluators}}
test_evaluator = val_evaluator  # the same metrics, on test_dataloader's split
