# Fine-tune open-vocabulary detection + instance masks on YOUR COCO-format dataset (no code changes):
# set data_root / the annotation files / the image folder below (or with --cfg-options). Class names are
# read from each annotation file's `categories`; the metric reads them from the validation file.
# Start from a trained generalist with `load_from` (e.g. the main job's checkpoint).
_base_ = ['./visionllm_internvl-tiny_det_1xb8-2k_synthetic.py']
data_root = 'data/my_coco/'
train_ann = 'annotations/instances_train.json'
val_ann = 'annotations/instances_val.json'    # for choosing checkpoints (validation during training)
test_ann = 'annotations/instances_test.json'  # for the numbers you report (tools/test.py)
img_prefix = ''  # image paths in the JSON are relative to data_root + img_prefix
load_from = None
# Real resolution: the decoder sees images with their longer side at image_size (keep-ratio resize at test
# time; mmdet-style multi-scale resize x0.75-1.25 + crop in training). Small objects need it: at stride 4
# (the mask branch) a 12 px nucleus of a 512 px slide is 3 px wide; at 128 px it is under one.
image_size = 512
max_objects = 300  # decoder queries = detections per image: real images hold hundreds of objects

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
# many small objects: more queries, half of the mask loss's points around each object
# (visionllm.models.decoders.mask_points) and each predicted mask kept inside its box; loading a 30-query
# checkpoint re-initialises the query embeddings
model = dict(decoders=dict(det=dict(mask_box_points=0.5, detector=dict(num_queries=max_objects),
                                    test_cfg=dict(max_per_img=max_objects, mask_in_box=True))))

det_train = dict(type='CocoOVDDataset', data_root=data_root, ann_file=train_ann, data_prefix=dict(img=img_prefix),
                 pipeline=det_train_pipeline)
det_val = dict(type='CocoOVDDataset', data_root=data_root, ann_file=val_ann, data_prefix=dict(img=img_prefix),
               pipeline=det_test_pipeline, test_mode=True, class_chunk=30, _delete_=True)
det_test = dict(det_val, ann_file=test_ann)
train_dataloader = dict(dataset=det_train)
val_dataloader = dict(dataset=det_val)
test_dataloader = dict(dataset=det_test)
val_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])]
test_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + test_ann, metric=['bbox', 'segm'])]
