# The embedded synthetic data (tools/generate_data.py): pipelines, datasets and evaluators of every task.
# Three splits: `*_train` (never draws nor names the held-out categories), `*_val` (for choosing settings and
# checkpoints: the validation run during training) and `*_test` (the split every published number is measured
# on: tools/test.py). Top-level configs compose the dataloaders from these pieces.
data_root = 'data/synthetic/'
tile_size = 64      # the MLLM's vision input (one tile per image: max_tiles=1)
image_size = 128    # the decoders' input
pack = dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1)
held_out_file = data_root + 'meta.json'  # names held out of training (meta.json's `held_out`)

# ---- text: captioning + VQA (LLaVA-style JSONL) -------------------------------------------------------
text_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                 pack]


def _conversations(task, split):
    return dict(type='ConversationDataset', data_root=data_root, ann_file=f'conversations/{task}_{split}.jsonl',
                task=task, pipeline=text_pipeline, test_mode=split != 'train')


caption_train, caption_val, caption_test = (_conversations('caption', s) for s in ('train', 'val', 'test'))
vqa_train, vqa_val, vqa_test = (_conversations('vqa', s) for s in ('train', 'val', 'test'))
text_evaluators = [dict(type='VQAAccuracy'), dict(type='CaptionObjectF1')]

# ---- open-vocabulary detection + instance masks (COCO instances JSON) --------------------------------
det_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=True),
    # one phrasing (phrasing='train' draws among prompts.PHRASINGS' training ones: docs/results.md, "What the LLM
    # learns", measured it on validation without a gain)
    dict(type='BuildDetectionConversation', max_classes=30, p_all=0.6, num_negatives=(1, 8)),
    pack,
]
det_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30),
    pack,
]
det_free_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30, answer_mode='free'),
    pack,
]
# the free path as a user meets it: a phrasing held out of training, a random request of 1 to 30 names
det_free_held_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildDetectionConversation', test_mode=True, max_classes=30, answer_mode='free', phrasing='held_out',
         request_sizes=(1, 30)),
    pack,
]


def _instances(split, pipeline, **kwargs):
    if split != 'train':
        kwargs.setdefault('class_chunk', 30)  # evaluation prompts at most 30 names at a time (longer lists: chunks)
    return dict(type='CocoOVDDataset', data_root=data_root, ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=''), pipeline=pipeline, test_mode=split != 'train', **kwargs)


def _det_evaluators(split):
    ann = data_root + f'annotations/instances_{split}.json'
    return [dict(type='OVCocoMetric', ann_file=ann, metric=['bbox', 'segm'], held_out_file=held_out_file),
            dict(type='OVCocoMetric', ann_file=ann, metric=['bbox'], held_out_file=held_out_file,
                 answer_mode='free', phrasing='default', prefix='det_free'),
            dict(type='RoutingAccuracy', phrasing='default')]


det_train = _instances('train', det_train_pipeline)
det_val, det_test = (_instances(s, det_test_pipeline) for s in ('val', 'test'))
# the free path (the LLM writes the answer) on the first 50 images: generation is slow
det_free_val, det_free_test = (_instances(s, det_free_pipeline, indices=50) for s in ('val', 'test'))
det_val_evaluators, det_test_evaluators = _det_evaluators('val'), _det_evaluators('test')
det_free_held_val, det_free_held_test = (_instances(s, det_free_held_pipeline, indices=50) for s in ('val', 'test'))

# ---- referring expressions ([GRD] -> the detection decoder, one group per sample) ---------------------
grd_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='BuildGroundingConversation'),
    pack,
]
grd_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildGroundingConversation'),
    pack,
]


def _referring(split):
    return dict(type='ReferringDataset', data_root=data_root, ann_file=f'conversations/referring_{split}.jsonl',
                pipeline=grd_train_pipeline if split == 'train' else grd_test_pipeline, test_mode=split != 'train')


grd_train, grd_val, grd_test = (_referring(s) for s in ('train', 'val', 'test'))
grd_evaluators = [dict(type='GroundingAccuracy', answer_mode='prompted')]
# the free path of referring (held-out phrasing) on the first 50 expressions
grd_free_held_val, grd_free_held_test = (
    dict(_referring(s), indices=50, pipeline=grd_test_pipeline[:-2] + [
        dict(type='BuildGroundingConversation', answer_mode='free', phrasing='held_out'), pack])
    for s in ('val', 'test'))


def _free_held_evaluators(split):
    """Free path on held-out phrasings (``*_free_held_*`` datasets): routing per task, decoders' scores."""
    return [dict(type='RoutingAccuracy', phrasing='held_out', prefix='routing_held'),
            dict(type='OVCocoMetric', ann_file=data_root + f'annotations/instances_{split}.json', metric=['bbox'],
                 held_out_file=held_out_file, answer_mode='free', phrasing='held_out', prefix='det_free_held'),
            dict(type='GroundingAccuracy', answer_mode='free', prefix='grounding_free_held')]


free_held_val_evaluators, free_held_test_evaluators = _free_held_evaluators('val'), _free_held_evaluators('test')

# ---- semantic segmentation (PNG label maps; 0 = background, k = the k-th name of the split's class list) ---
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


def _semseg(split):
    return dict(type='SemSegDataset', data_root=data_root,
                classes_file=data_root + f'annotations/semseg_classes_{split}.json',
                data_prefix=dict(img_path=f'images/{split}', seg_map_path=f'semseg/{split}'),
                pipeline=seg_train_pipeline if split == 'train' else seg_test_pipeline, test_mode=split != 'train')


def _seg_evaluators(split):
    return [dict(type='OVIoUMetric', classes_file=data_root + f'annotations/semseg_classes_{split}.json',
                 held_out_file=held_out_file, iou_metrics=['mIoU'])]


seg_train, seg_val, seg_test = (_semseg(s) for s in ('train', 'val', 'test'))
seg_val_evaluators, seg_test_evaluators = _seg_evaluators('val'), _seg_evaluators('test')

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


def _keypoints(split):
    return dict(type='CocoKeypointDataset', data_root=data_root, ann_file=f'annotations/keypoints_{split}.json',
                pipeline=pose_train_pipeline if split == 'train' else pose_test_pipeline, test_mode=split != 'train')


def _pose_evaluators(split):
    ann = data_root + f'annotations/keypoints_{split}.json'
    return [dict(type='OVCocoKeypointMetric', ann_file=ann, sigmas_file=held_out_file),
            dict(type='OVCocoMetric', ann_file=ann, metric=['bbox'], tasks=['pose'], prefix='pose_det')]


pose_train, pose_val, pose_test = (_keypoints(s) for s in ('train', 'val', 'test'))
pose_val_evaluators, pose_test_evaluators = _pose_evaluators('val'), _pose_evaluators('test')

# ---- generation (text-to-image pairs) and editing (edit triples), 64 px --------------------------------
gen_pipeline = [dict(type='LoadTargetImage', size=64), dict(type='BuildGenerationConversation'), pack]
edit_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadTargetImage', size=64),
    dict(type='BuildEditConversation'),
    pack,
]
gen_train, gen_val, gen_test = (dict(type='TextToImageDataset', data_root=data_root, ann_file=f't2i/{s}.jsonl',
                                     pipeline=gen_pipeline, test_mode=s != 'train') for s in ('train', 'val', 'test'))
edit_train, edit_val, edit_test = (dict(type='EditDataset', data_root=data_root, ann_file=f'edit/{s}.jsonl',
                                        pipeline=edit_pipeline, test_mode=s != 'train')
                                   for s in ('train', 'val', 'test'))
gen_evaluators = [dict(type='GenerationMetric'), dict(type='EditMetric')]


# ---- visual prompts: regions drawn from the instance masks of the detection files ---------------------------
# region captioning (name the object in a region), interactive segmentation (the object a click / box / scribble /
# mask points at) and detection by example (every object like the region's); training never draws held-out names
def _region_pipeline(task, test_mode):
    return [dict(type='LoadImage'), dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
            *([] if test_mode else [dict(type='mmdet.RandomFlip', prob=0.5)]),
            dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
            dict(type='BuildRegionConversation', task=task, test_mode=test_mode), pack]


def _regions(task, split, kinds=('box', )):
    return dict(type='RegionDataset', task=task, kinds=kinds, data_root=data_root,
                ann_file=f'annotations/instances_{split}.json', data_prefix=dict(img=''),
                pipeline=_region_pipeline(task, split != 'train'), test_mode=split != 'train')


region_caption_train, iseg_train, vpdet_train = (_regions(t, 'train') for t in
                                                 ('region-caption', 'interactive-seg', 'detect-by-example'))
# test: every object once with its tight box (and, for interactive segmentation, once with one click at the point
# farthest from its boundary); detection by example: every (image, category) with the largest object as exemplar
region_caption_val, region_caption_test = (_regions('region-caption', s) for s in ('val', 'test'))
iseg_val, iseg_test = (_regions('interactive-seg', s, ('box', 'point')) for s in ('val', 'test'))
vpdet_val, vpdet_test = (_regions('detect-by-example', s) for s in ('val', 'test'))


def _region_evaluators(split):
    return [dict(type='RegionRecognitionAccuracy', held_out_file=held_out_file),
            dict(type='InteractiveSegMetric', held_out_file=held_out_file),
            dict(type='OVCocoMetric', ann_file=data_root + f'annotations/instances_{split}.json', metric=['bbox'],
                 held_out_file=held_out_file, tasks=['detect-by-example'], names_from='class_names', prefix='vpdet'),
            dict(type='CountingMAE', held_out_file=held_out_file)]


region_val_evaluators, region_test_evaluators = _region_evaluators('val'), _region_evaluators('test')


# image -> model inputs, for VisionLLMInferencer / tools/infer.py
infer_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                  pack]

det_text_val_evaluators = det_val_evaluators + grd_evaluators + text_evaluators
det_text_test_evaluators = det_test_evaluators + grd_evaluators + text_evaluators
all_val_evaluators = (det_val_evaluators[:1] + grd_evaluators + seg_val_evaluators + pose_val_evaluators
                      + gen_evaluators + text_evaluators)
all_test_evaluators = (det_test_evaluators[:1] + grd_evaluators + seg_test_evaluators + pose_test_evaluators
                       + gen_evaluators + text_evaluators)
det_region_val_evaluators = det_text_val_evaluators + region_val_evaluators
det_region_test_evaluators = det_text_test_evaluators + region_test_evaluators
