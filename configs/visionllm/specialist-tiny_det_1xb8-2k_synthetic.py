# Baseline of the generalist-vs-specialist benchmark: the same detection decoder, data and schedule as
# visionllm_internvl-tiny_det_1xb8-2k_synthetic.py, conditioned on a learned closed-set class table (no LLM).
_base_ = ['../_base_/models/det_decoder_tiny.py', '../_base_/datasets/synthetic.py',
          '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py']
synthetic_classes = [f'{c} {s}' for c in ('red', 'green', 'blue', 'yellow', 'purple', 'orange')
                     for s in ('circle', 'square', 'triangle', 'star', 'cross')]
model = dict(type='ClosedSetSpecialist', classes=synthetic_classes, condition_dims=128,
             decoder={{_base_.det_decoder}}, data_preprocessor=dict(type='VisionLLMDataPreprocessor'))
optim_wrapper = dict(optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=0.1))  # as the generalist's decoder
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.det_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.det_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.det_test}}, **loader)
val_evaluator = _base_.det_val_evaluators[0]  # prompted box / mask mAP (the specialist has no free path)
test_evaluator = _base_.det_test_evaluators[0]
