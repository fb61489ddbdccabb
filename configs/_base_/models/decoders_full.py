# Full-size specialist decoders: Grounding-DINO-T-like detection (ResNet-50, 256-d, 6+6 layers, 900
# queries), Mask2Former-pixel-decoder segmentation, pose on ResNet-50, SD-1.5-shaped UNet + VAE.
full_det_decoder = dict(
    type='OVDetectionDecoder', mask_in_channels=256, max_classes=128, num_points=12544,
    # RoI class refiner on ResNet-50's stride-4 / stride-8 outputs; name term in the class embeddings
    roi_refine=dict(in_channels=(256, 512), gt_loss_weight=2.0, gt_copies=4, cos_gain=0.5), name_embedding=True,
    test_cfg=dict(max_per_img=300, score_thr=0.0, mask_thr=0.5),
    detector=dict(
        num_queries=900, with_box_refine=True, as_two_stage=True,
        backbone=dict(type='mmdet.ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                      norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch'),
        neck=dict(type='mmdet.ChannelMapper', in_channels=[512, 1024, 2048], kernel_size=1, out_channels=256,
                  act_cfg=None, norm_cfg=dict(type='GN', num_groups=32), num_outs=4),
        encoder=dict(num_layers=6,
                     layer_cfg=dict(self_attn_cfg=dict(embed_dims=256, num_levels=4, dropout=0.0),
                                    ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, ffn_drop=0.0)),
                     text_layer_cfg=dict(self_attn_cfg=dict(num_heads=4, embed_dims=256, dropout=0.0),
                                         ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, ffn_drop=0.0)),
                     fusion_layer_cfg=dict(v_dim=256, l_dim=256, embed_dim=1024, num_heads=4, init_values=1e-4)),
        decoder=dict(num_layers=6, return_intermediate=True,
                     layer_cfg=dict(self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0),
                                    cross_attn_text_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0),
                                    cross_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0),
                                    ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, ffn_drop=0.0)),
                     post_norm_cfg=None),
        positional_encoding=dict(num_feats=128, normalize=True, offset=0.0, temperature=20),
        bbox_head=dict(type='visionllm.BatchMatchingGroundingDINOHead', num_classes=128, embed_dims=256,
                       sync_cls_avg_factor=True,
                       contrastive_cfg=dict(log_scale=0.0, bias=True),
                       loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
                       loss_bbox=dict(type='mmdet.L1Loss', loss_weight=5.0),
                       loss_iou=dict(type='mmdet.GIoULoss', loss_weight=2.0)),
        dn_cfg=dict(label_noise_scale=0.5, box_noise_scale=1.0,
                    group_cfg=dict(dynamic=True, num_groups=None, num_dn_queries=100)),
        train_cfg=dict(assigner=dict(type='visionllm.BatchHungarianAssigner', match_costs=[
            dict(type='mmdet.BinaryFocalLossCost', weight=2.0),
            dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
            dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0)])),
        test_cfg=dict(max_per_img=300)))
full_seg_decoder = dict(
    type='OVSemSegDecoder',
    backbone=dict(type='mmdet.ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=-1,
                  norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch'),
    pixel_decoder=dict(
        type='mmdet.MSDeformAttnPixelDecoder', in_channels=[256, 512, 1024, 2048], strides=[4, 8, 16, 32],
        feat_channels=256, out_channels=256, num_outs=3, norm_cfg=dict(type='GN', num_groups=32),
        act_cfg=dict(type='ReLU'),
        encoder=dict(num_layers=6, layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, num_levels=3, num_points=4, dropout=0.0),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, num_fcs=2, ffn_drop=0.0,
                         act_cfg=dict(type='ReLU', inplace=True)))),
        positional_encoding=dict(num_feats=128, normalize=True)))
full_pose_decoder = dict(
    type='OVPoseDecoder',
    backbone=dict(type='mmdet.ResNet', depth=50, num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(0, 1),
                  norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch'),
    in_channels=(256, 512), embed_dims=256, roi_size=64)
sd_vae = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
              down_block_types=('DownEncoderBlock2D', ) * 4, up_block_types=('UpDecoderBlock2D', ) * 4,
              layers_per_block=2, norm_num_groups=32, sample_size=512)
sd_unet = dict(sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
               cross_attention_dim=768, attention_head_dim=8, layers_per_block=2)
full_gen_decoder = dict(type='DiffusionGenerationDecoder', unet=sd_unet, vae=sd_vae, image_size=512,
                        mapper=dict(num_tokens=77, num_layers=4, num_heads=12), train_parts=('unet', 'mapper'))
full_edit_decoder = dict(type='DiffusionEditDecoder', unet=dict(sd_unet, in_channels=8), vae=sd_vae, image_size=512,
                         mapper=dict(num_tokens=77, num_layers=4, num_heads=12), train_parts=('unet', 'mapper'))
