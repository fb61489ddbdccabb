# InternVL3-1B-sized generalist with all full-size decoders (parameter counts / memory estimates on the
# meta device, GPU runs; not trained in CI). Real weights: model.mllm.pretrained=<local InternVL3-1B-hf>.
_base_ = ['./visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py', '../_base_/models/decoders_full.py',
          '../_base_/models/internvl3_mllm.py']
model = dict(
    mllm={{_base_.internvl3_1b_mllm}},
    superlink=dict(slot_attention='causal'),  # a pretrained LLM reads names through causal attention
    decoders=dict(det={{_base_.full_det_decoder}}, seg={{_base_.full_seg_decoder}}, pose={{_base_.full_pose_decoder}},
                  gen={{_base_.full_gen_decoder}}, edit={{_base_.full_edit_decoder}}),
    max_length=4096, test_cfg=dict(max_new_tokens=512), touch_unused_decoders=True)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', optimizer=dict(lr=1e-4), clip_grad=dict(max_norm=1.0),
                     paramwise_cfg=dict(bypass_duplicate=True, custom_keys={
                         'mllm': dict(lr_mult=0.1), 'backbone': dict(lr_mult=0.1),
                         'sampling_offsets': dict(lr_mult=0.1), 'reference_points': dict(lr_mult=0.1)}))
max_iters = 20000
train_cfg = dict(max_iters=max_iters, val_interval=2000)
param_scheduler = [  # its own schedule: the base's cosine ends at the tiny main job's last iteration
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=max_iters, eta_min_ratio=0.05),
]
train_dataloader = dict(batch_size=4)
