# CPU-sized keypoint decoder: half-width ResNet-18 (strides 4 and 8), 32 x 32 heatmaps per instance.
pose_decoder = dict(
    type='OVPoseDecoder',
    backbone=dict(type='mmdet.ResNet', depth=18, base_channels=32, num_stages=2, strides=(1, 2), dilations=(1, 1),
                  out_indices=(0, 1), norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, style='pytorch'),
    in_channels=(32, 64), embed_dims=64, roi_size=32, box_expand=1.25,
    codec=dict(sigma=1.5),
    test_cfg=dict(score_thr=0.3, max_instances=20),
)
