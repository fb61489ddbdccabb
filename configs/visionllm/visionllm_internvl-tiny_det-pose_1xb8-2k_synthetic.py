# Pose ([POSE] keypoint names) on detected instances ([DET] 'shape'), trained jointly on the embedded
# keypoint annotations; keypoint AP via mmpose's COCO metric and box AP of the instances.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/models/det_decoder_tiny.py',
    '../_base_/models/pose_decoder_tiny.py', '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_2k.py',
    '../_base_/default_runtime.py'
]
model = dict(decoders=dict(det={{_base_.det_decoder}}, pose={{_base_.pose_decoder}}))
optim_wrapper = dict(optimizer=dict(lr=2e-4), clip_grad=dict(max_norm=0.1))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.pose_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.pose_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.pose_test}}, **loader)
val_evaluator = {{_base_.pose_val_evaluators}}
test_evaluator = {{_base_.pose_test_evaluators}}
