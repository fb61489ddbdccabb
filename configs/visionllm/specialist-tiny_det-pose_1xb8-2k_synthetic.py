# Baseline of the generalist-vs-specialist pose benchmark: the same detection and keypoint decoders, data and
# schedule as visionllm_internvl-tiny_det-pose_1xb8-2k_synthetic.py, each conditioned on a learned closed-set
# table (detection: the category 'shape'; pose: the 5 keypoint names), chained as the generalist runs them.
_base_ = ['../_base_/models/det_decoder_tiny.py', '../_base_/models/pose_decoder_tiny.py',
          '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py']
model = dict(
    type='SpecialistChain',
    data_preprocessor=dict(type='VisionLLMDataPreprocessor'),
    members=dict(
        det=dict(type='ClosedSetSpecialist', classes=['shape'], condition_dims=128, task='pose',
                 decoder={{_base_.det_decoder}}),
        pose=dict(type='ClosedSetSpecialist', classes=['top', 'bottom', 'left', 'right', 'center'], condition_dims=128,
                  task='pose', routing_token='[POSE]', names_field='keypoint_names',
                  decoder={{_base_.pose_decoder}})))
optim_wrapper = dict(optimizer=dict(lr=2e-4), clip_grad=dict(max_norm=0.1))  # as the generalist's
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.pose_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.pose_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.pose_test}}, **loader)
val_evaluator = {{_base_.pose_val_evaluators}}
test_evaluator = {{_base_.pose_test_evaluators}}
