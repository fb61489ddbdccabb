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

det_train = dict(type='CocoOVDDataset', data_root=data_root, ann_file=train_ann, data_prefix=dict(img=img_prefix),
                 pipeline={{_base_.det_train_pipeline}})
det_val = dict(type='CocoOVDDataset', data_root=data_root, ann_file=val_ann, data_prefix=dict(img=img_prefix),
               pipeline={{_base_.det_test_pipeline}}, test_mode=True, class_chunk=30, _delete_=True)
det_test = dict(det_val, ann_file=test_ann)
train_dataloader = dict(dataset=det_train)
val_dataloader = dict(dataset=det_val)
test_dataloader = dict(dataset=det_test)
val_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])]
test_evaluator = [dict(type='OVCocoMetric', ann_file=data_root + test_ann, metric=['bbox', 'segm'])]
