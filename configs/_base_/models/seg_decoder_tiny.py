# CPU-sized open-vocabulary semantic segmentation decoder: half-width ResNet-18 + 1-layer Mask2Former
# pixel decoder (width 64), class-conditioned per-pixel classification.
seg_dims = 64
seg_backbone_width = 32
seg_decoder = dict(
    type='OVSemSegDecoder',
    backbone=dict(type='mmdet.ResNet', depth=18, base_channels=seg_backbone_width, num_stages=4,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                  style='pytorch'),
    pixel_decoder=dict(
        type='mmdet.MSDeformAttnPixelDecoder',
        in_channels=[seg_backbone_width * k for k in (1, 2, 4, 8)], strides=[4, 8, 16, 32],
        feat_channels=seg_dims, out_channels=seg_dims, num_outs=3,
        norm_cfg=dict(type='GN', num_groups=32), act_cfg=dict(type='ReLU'),
        encoder=dict(num_layers=1, layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=seg_dims, num_heads=4, num_levels=3, num_points=4, dropout=0.0),
            ffn_cfg=dict(embed_dims=seg_dims, feedforward_channels=256, num_fcs=2, ffn_drop=0.0,
                         act_cfg=dict(type='ReLU', inplace=True)))),
        positional_encoding=dict(num_feats=seg_dims // 2, normalize=True)),
)
