# Referring-expression grounding ([GRD]) on RefCOCO / RefCOCO+ / RefCOCOg in mmdet's layout: the COCO
# `instances.json` of the refs' images plus the pickled refs (`refs(unc).p`; RefCOCOg: `refs(umd).p`, splits
# train/val/test). Every sentence is one sample; the metric is top-1 box accuracy at IoU 0.5 in original
# coordinates. No flips (they would turn "left" into "right"); multi-scale resize without crops (a crop could
# cut the referred object out). The model is the custom-COCO config's (real resolution, 300 queries).
_base_ = ['./visionllm_internvl-tiny_det_1xb8-2k_custom-coco.py']
data_root = 'data/refcoco/'
ann_file = 'refcoco/instances.json'
split_file = 'refcoco/refs(unc).p'
img_prefix = 'train2014/'
train_split, val_split, test_split = 'train', 'val', 'testA'  # RefCOCO / RefCOCO+ also have testB

grd_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.RandomResize', scale=({{_base_.image_size}}, {{_base_.image_size}}), ratio_range=(0.75, 1.25),
         keep_ratio=True, resize_type='mmdet.Resize'),
    dict(type='BuildGroundingConversation'),
    {{_base_.pack}},
]
grd_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=({{_base_.image_size}}, {{_base_.image_size}}), keep_ratio=True),
    dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
    dict(type='BuildGroundingConversation'),
    {{_base_.pack}},
]


def _refs(split, pipeline):
    return dict(type='RefCocoGroundingDataset', data_root=data_root, ann_file=ann_file, split_file=split_file,
                split=split, data_prefix=dict(img=img_prefix), pipeline=pipeline, test_mode=split != train_split,
                _delete_=True)


train_dataloader = dict(dataset=_refs(train_split, grd_train_pipeline))
val_dataloader = dict(dataset=_refs(val_split, grd_test_pipeline))
test_dataloader = dict(dataset=_refs(test_split, grd_test_pipeline))
val_evaluator = [dict(type='GroundingAccuracy')]
test_evaluator = val_evaluator
