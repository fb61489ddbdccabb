# CPU-sized Grounding-DINO-style detection + instance-mask decoder (half-width ResNet-18, 2+2 layers, width 128,
# RoI class refiner on the last layer (with its ground-truth-box loss on 4 jittered copies of each box), name token
# embeddings in the class embeddings, no dropout in the image-text fusion layers).
det_dims = 128
backbone_width = 32  # ResNet base channels (64 in the standard ResNet-18)
det_decoder = dict(
    type='OVDetectionDecoder',
    mask_in_channels=backbone_width,
    # re-classify the last layer's queries with features pooled inside their boxes (strides 4 and 8); the
    # readout is also trained on the ground-truth boxes (softmax over the prompt's classes, cosine logits, weight 2),
    # and those cosine logits, centred, are added to the refined logits
    roi_refine=dict(in_channels=(backbone_width, backbone_width * 2), gt_loss_weight=2.0, gt_copies=4, cos_gain=0.5),
    # class embedding += Linear(LayerNorm(mean token embedding of the name)): names sharing a word share a component
    name_embedding=True,
    max_classes=32,
    num_points=256,
    test_cfg=dict(max_per_img=100, score_thr=0.0, mask_thr=0.5),
    detector=dict(
        num_queries=30,
        with_box_refine=True,
        as_two_stage=True,
        backbone=dict(type='mmdet.ResNet', depth=18, base_channels=backbone_width, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=-1,
                      norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, style='pytorch'),
        neck=dict(type='mmdet.ChannelMapper', in_channels=[backbone_width * 2, backbone_width * 4, backbone_width * 8], kernel_size=1, out_channels=det_dims,
                  act_cfg=None, norm_cfg=dict(type='GN', num_groups=32), num_outs=3),
        encoder=dict(
            num_layers=2,
            layer_cfg=dict(self_attn_cfg=dict(embed_dims=det_dims, num_levels=3, num_heads=4, dropout=0.0),
                           ffn_cfg=dict(embed_dims=det_dims, feedforward_channels=512, ffn_drop=0.0)),
            text_layer_cfg=dict(self_attn_cfg=dict(num_heads=4, embed_dims=det_dims, dropout=0.0),
                                ffn_cfg=dict(embed_dims=det_dims, feedforward_channels=256, ffn_drop=0.0)),
            fusion_layer_cfg=dict(v_dim=det_dims, l_dim=det_dims, embed_dim=256, num_heads=4, init_values=1e-4,
                                  dropout=0.0)),
        decoder=dict(
            num_layers=2,
            return_intermediate=True,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=det_dims, num_heads=4, dropout=0.0),
                cross_attn_text_cfg=dict(embed_dims=det_dims, num_heads=4, dropout=0.0),
                cross_attn_cfg=dict(embed_dims=det_dims, num_heads=4, num_levels=3, dropout=0.0),
                ffn_cfg=dict(embed_dims=det_dims, feedforward_channels=512, ffn_drop=0.0)),
            post_norm_cfg=None),
        positional_encoding=dict(num_feats=det_dims // 2, normalize=True, offset=0.0, temperature=20),
        bbox_head=dict(
            type='visionllm.BatchMatchingGroundingDINOHead',
            num_classes=32,
            embed_dims=det_dims,
            sync_cls_avg_factor=True,
            # learnable logit scale, initialised at 1 / sqrt(det_dims)
            contrastive_cfg=dict(log_scale=-2.426, bias=True),  # -0.5 * ln(det_dims)
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
            loss_bbox=dict(type='mmdet.L1Loss', loss_weight=5.0),
            loss_iou=dict(type='mmdet.GIoULoss', loss_weight=2.0)),
        dn_cfg=dict(label_noise_scale=0.5, box_noise_scale=1.0,
                    group_cfg=dict(dynamic=True, num_groups=None, num_dn_queries=50)),
        train_cfg=dict(assigner=dict(type='visionllm.BatchHungarianAssigner', match_costs=[
            dict(type='mmdet.BinaryFocalLossCost', weight=2.0),
            dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
            dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0)])),
        test_cfg=dict(max_per_img=100)),
)
