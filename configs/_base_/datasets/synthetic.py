# The embedded synthetic data (tools/generate_data.py): pipelines, datasets and evaluators of every task.
# Top-level configs compose the dataloaders from these pieces.
data_root = 'data/synthetic/'
tile_size = 64      # the MLLM's vision input (one tile per image: max_tiles=1)
image_size = 128    # the decoders' input
pack = dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1)

# ---- text: captioning + VQA (LLaVA-style JSONL) -------------------------------------------------------
text_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                 pack]
caption_train = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/caption_train.jsonl',
                     task='caption', pipeline=text_pipeline)
vqa_train = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/vqa_train.jsonl',
                 task='vqa', pipeline=text_pipeline)
caption_val = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/caption_val.jsonl',
                   task='caption', pipeline=text_pipeline, test_mode=True)
vqa_val = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/vqa_val.jsonl',
               task='vqa', pipeline=text_pipeline, test_mode=True)
text_evaluators = [dict(type='VQAAccuracy'), dict(type='CaptionObjectF1')]

# ---- open-vocabulary detection + instance masks (COCO instances JSON) --------------------------------
det_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=True),
    dict(type='BuildDetectionConversation', max_classes=30, p_all=0.6, num_negatives=(1, 8)),
    pack,
]
det_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30),
    pack,
]
det_free_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30, answer_mode='free'),
    pack,
]
det_train = dict(type='CocoOVDDataset', data_root=data_root, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img=''), pipeline=det_train_pipeline)
det_val = dict(type='CocoOVDDataset', data_root=data_root, ann_file='annotations/instances_val.json',
               data_prefix=dict(img=''), pipeline=det_test_pipeline, test_mode=True)
det_free_val = dict(type='CocoOVDDataset', data_root=data_root, ann_file='annotations/instances_val.json',
                    data_prefix=dict(img=''), pipeline=det_free_pipeline, test_mode=True, indices=50)
det_evaluators = [
    dict(type='OVCocoMetric', ann_file=data_root + 'annotations/instances_val.json', metric=['bbox', 'segm'],
         held_out_file=data_root + 'meta.json'),
    dict(type='OVCocoMetric', ann_file=data_root + 'annotations/instances_val.json', metric=['bbox'],
         held_out_file=data_root + 'meta.json', answer_mode='free', prefix='det_free'),
    dict(type='RoutingAccuracy'),
]

# ---- referring expressions ([GRD] -> the detection decoder, one group per sample) ---------------------
grd_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='BuildGroundingConversation'),
    pack,
]
grd_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildGroundingConversation'),
    pack,
]
grd_train = dict(type='ReferringDataset', data_root=data_root, ann_file='conversations/referring_train.jsonl',
                 pipeline=grd_train_pipeline)
grd_val = dict(type='ReferringDataset', data_root=data_root, ann_file='conversations/referring_val.jsonl',
               pipeline=grd_test_pipeline, test_mode=True)
grd_evaluators = [dict(type='GroundingAccuracy')]

# ---- semantic segmentation (PNG label maps; 0 = background, k = category k) -------------------------
seg_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='BuildSegmentationConversation', max_classes=31, p_all=0.5, num_negatives=(1, 8)),
    pack,
]
seg_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='BuildSegmentationConversation', test_mode=True, max_classes=31),
    pack,
]
seg_classes_file = data_root + 'annotations/semseg_classes.json'
seg_train = dict(type='SemSegDataset', data_root=data_root, classes_file=seg_classes_file,
                 data_prefix=dict(img_path='images/train', seg_map_path='semseg/train'), pipeline=seg_train_pipeline)
seg_val = dict(type='SemSegDataset', data_root=data_root, classes_file=seg_classes_file,
               data_prefix=dict(img_path='images/val', seg_map_path='semseg/val'), pipeline=seg_test_pipeline,
               test_mode=True)
seg_evaluators = [dict(type='OVIoUMetric', classes_file=seg_classes_file, held_out_file=data_root + 'meta.json',
                       iou_metrics=['mIoU'])]

# ---- pose (COCO keypoints JSON: one category 'shape', 5 named points) --------------------------------
pose_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadPoseAnnotations'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='RescaleKeypoints'),
    dict(type='BuildPoseConversation'),
    pack,
]
pose_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadPoseAnnotations'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='RescaleKeypoints'),
    dict(type='BuildPoseConversation', test_mode=True),
    pack,
]
pose_train = dict(type='CocoKeypointDataset', data_root=data_root, ann_file='annotations/keypoints_train.json',
                  pipeline=pose_train_pipeline)
pose_val = dict(type='CocoKeypointDataset', data_root=data_root, ann_file='annotations/keypoints_val.json',
                pipeline=pose_test_pipeline, test_mode=True)
pose_evaluators = [
    dict(type='OVCocoKeypointMetric', ann_file=data_root + 'annotations/keypoints_val.json',
         sigmas_file=data_root + 'meta.json'),
    dict(type='OVCocoMetric', ann_file=data_root + 'annotations/keypoints_val.json', metric=['bbox'], tasks=['pose'],
         prefix='pose_det'),
]

# ---- generation (text-to-image pairs) and editing (edit triples), 64 px --------------------------------
gen_pipeline = [dict(type='LoadTargetImage', size=64), dict(type='BuildGenerationConversation'), pack]
edit_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadTargetImage', size=64),
    dict(type='BuildEditConversation'),
    pack,
]
gen_train = dict(type='TextToImageDataset', data_root=data_root, ann_file='t2i/train.jsonl', pipeline=gen_pipeline)
gen_val = dict(type='TextToImageDataset', data_root=data_root, ann_file='t2i/val.jsonl', pipeline=gen_pipeline,
               test_mode=True)
edit_train = dict(type='EditDataset', data_root=data_root, ann_file='edit/train.jsonl', pipeline=edit_pipeline)
edit_val = dict(type='EditDataset', data_root=data_root, ann_file='edit/val.jsonl', pipeline=edit_pipeline,
                test_mode=True)
gen_evaluators = [dict(type='GenerationMetric'), dict(type='EditMetric')]


# image -> model inputs, for VisionLLMInferencer / tools/infer.py
infer_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                  pack]

det_text_evaluators = det_evaluators + grd_evaluators + text_evaluators
all_evaluators = det_evaluators[:1] + grd_evaluators + seg_evaluators + pose_evaluators + gen_evaluators + text_evaluators
