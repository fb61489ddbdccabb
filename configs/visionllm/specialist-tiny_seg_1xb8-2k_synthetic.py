# Baseline of the generalist-vs-specialist segmentation benchmark: the same segmentation decoder, data and
# schedule as visionllm_internvl-tiny_seg_1xb8-2k_synthetic.py, conditioned on a learned closed-set table.
_base_ = ['../_base_/models/seg_decoder_tiny.py', '../_base_/datasets/synthetic.py',
          '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py']
seg_classes = ['background'] + [f'{c} {s}' for c in ('red', 'green', 'blue', 'yellow', 'purple', 'orange')
                                for s in ('circle', 'square', 'triangle', 'star', 'cross')]
model = dict(type='ClosedSetSpecialist', classes=seg_classes, condition_dims=128, task='semseg',
             routing_token='[SEG]', decoder={{_base_.seg_decoder}},
             data_preprocessor=dict(type='VisionLLMDataPreprocessor'))
optim_wrapper = dict(optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=1.0))  # as the generalist's
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.seg_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.seg_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.seg_test}}, **loader)
val_evaluator = {{_base_.seg_val_evaluators}}
test_evaluator = {{_base_.seg_test_evaluators}}
