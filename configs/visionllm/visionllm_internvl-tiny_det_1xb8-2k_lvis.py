# Open-vocabulary detection + instance masks on LVIS v1 (the lvis package's format: images named by
# `coco_url` under the COCO image root, 1203 categories with r/c/f frequencies). Test prompts list the names
# by category id in chunks of 30 (41 samples per image), merged by the metric, which reports the lvis
# package's AP, APr, APc, APf. LVIS test labels are not public: val is reported (say so beside the numbers).
# Real resolution and many objects per image as in the custom-COCO config. Start from a checkpoint (load_from).
_base_ = ['./visionllm_internvl-tiny_det_1xb8-2k_custom-coco.py']
data_root = 'data/coco/'
train_ann = 'annotations/lvis_v1_train.json'
val_ann = 'annotations/lvis_v1_val.json'
test_ann = 'annotations/lvis_v1_val.json'
public_test_labels = False  # the test split's labels are not public: tools/test.py scores validation
img_prefix = ''  # coco_url's path (train2017/..., val2017/...) is joined to data_root + img_prefix
class_chunk = 30

det_train = dict(type='LvisOVDDataset', data_root=data_root, ann_file=train_ann, data_prefix=dict(img=img_prefix),
                 pipeline={{_base_.det_train_pipeline}})
det_val = dict(type='LvisOVDDataset', data_root=data_root, ann_file=val_ann, data_prefix=dict(img=img_prefix),
               pipeline={{_base_.det_test_pipeline}}, test_mode=True, class_chunk=class_chunk, _delete_=True)
det_test = dict(det_val, ann_file=test_ann)
train_dataloader = dict(dataset=det_train)
val_dataloader = dict(dataset=det_val)
test_dataloader = dict(dataset=det_test)
val_evaluator = [dict(type='OVLvisMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])]
test_evaluator = [dict(type='OVLvisMetric', ann_file=data_root + test_ann, metric=['bbox', 'segm'])]
