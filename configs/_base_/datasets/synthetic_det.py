# Open-vocabulary detection + instance masks on the embedded synthetic data (COCO instances JSON).
data_root = 'data/synthetic/'
tile_size = 64
image_size = 128
det_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=True),
    dict(type='BuildDetectionConversation', max_classes=30, p_all=0.2, num_negatives=(1, 8)),
    dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1),
]
det_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30),
    dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1),
]
det_free_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30, answer_mode='free'),
    dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1),
]
det_train = dict(type='CocoOVDDataset', data_root=data_root, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img=''), pipeline=det_train_pipeline)
det_val = dict(type='CocoOVDDataset', data_root=data_root, ann_file='annotations/instances_val.json',
               data_prefix=dict(img=''), pipeline=det_test_pipeline, test_mode=True)
det_evaluator = dict(type='OVCocoMetric', ann_file=data_root + 'annotations/instances_val.json',
                     metric=['bbox', 'segm'], held_out_file=data_root + 'meta.json')
