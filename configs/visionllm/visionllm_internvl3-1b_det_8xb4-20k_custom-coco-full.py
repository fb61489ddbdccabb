# Full-size fine-tuning of open-vocabulary detection + instance masks on YOUR COCO-format data: the
# InternVL3-1B-sized generalist with the full detection decoder (Grounding-DINO-T-like, 900 queries) at 800 px
# (multi-scale x0.75-1.25 + crop in training, keep-ratio at test), InternVL dynamic tiling for the MLLM.
# Set the paths as in the tiny custom-COCO config (--cfg-options data_root=... image_size=...); start from
# a trained full-size generalist with load_from. For GPUs.
_base_ = ['./visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py']
data_root = 'data/my_coco/'
train_ann = 'annotations/instances_train.json'
val_ann = 'annotations/instances_val.json'
test_ann = 'annotations/instances_test.json'
img_prefix = ''
image_size = 800
load_from = None

model = dict(decoders=dict(_delete_=True, det=dict(
    _base_.full_det_decoder, mask_box_points=0.5,
    test_cfg=dict(max_per_img=300, score_thr=0.0, mask_thr=0.5, mask_in_box=True))),
    loss_weights=dict(_delete_=True, lm=1.0, det=1.0))
det_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.RandomResize', scale=(image_size, image_size), ratio_range=(0.75, 1.25), keep_ratio=True,
         resize_type='mmdet.Resize'),
    dict(type='mmdet.RandomCrop', crop_size=(image_size, image_size), allow_negative_crop=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=True),
    dict(type='BuildDetectionConversation', max_classes=30, p_all=0.6, num_negatives=(1, 8)),
    {{_base_.pack}},
]
det_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30),
    {{_base_.pack}},
]
infer_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                  {{_base_.pack}}]
_coco = dict(type='CocoOVDDataset', data_root=data_root, data_prefix=dict(img=img_prefix), _delete_=True)
train_dataloader = dict(batch_sampler=None, dataset=dict(_coco, ann_file=train_ann, pipeline=det_train_pipeline))
val_dataloader = dict(dataset=dict(_coco, ann_file=val_ann, pipeline=det_test_pipeline, test_mode=True, class_chunk=30))
test_dataloader = dict(dataset=dict(_coco, ann_file=test_ann, pipeline=det_test_pipeline, test_mode=True,
                                    class_chunk=30))
val_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])]
test_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + test_ann, metric=['bbox', 'segm'])]
