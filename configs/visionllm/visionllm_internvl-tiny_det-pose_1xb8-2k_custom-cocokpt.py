# Fine-tune pose on YOUR COCO keypoint JSON (no code changes): keypoint names and the skeleton are read from
# the annotation file's category (`keypoints`, `skeleton`); set `category` if the file has several.
_base_ = ['./visionllm_internvl-tiny_det-pose_1xb8-2k_synthetic.py']
data_root = 'data/my_kpt/'
train_ann = 'annotations/keypoints_train.json'
val_ann = 'annotations/keypoints_val.json'    # for choosing checkpoints (validation during training)
test_ann = 'annotations/keypoints_test.json'  # for the numbers you report (tools/test.py)
img_prefix = ''
load_from = None
pose_train = dict(type='CocoKeypointDataset', data_root=data_root, ann_file=train_ann, data_prefix=dict(img=img_prefix),
                  pipeline={{_base_.pose_train_pipeline}})
pose_val = dict(type='CocoKeypointDataset', data_root=data_root, ann_file=val_ann, data_prefix=dict(img=img_prefix),
                pipeline={{_base_.pose_test_pipeline}}, test_mode=True)
pose_test = dict(pose_val, ann_file=test_ann)
train_dataloader = dict(dataset=pose_train)
val_dataloader = dict(dataset=pose_val)
test_dataloader = dict(dataset=pose_test)
val_evaluator = [dict(type='OVCocoKeypointMetric', ann_file=data_root + val_ann),
                 dict(type='OVCocoMetric', ann_file=data_root + val_ann, metric=['bbox'], tasks=['pose'],
                      prefix='pose_det')]
test_evaluator = [dict(type='OVCocoKeypointMetric', ann_file=data_root + test_ann),
                  dict(type='OVCocoMetric', ann_file=data_root + test_ann, metric=['bbox'], tasks=['pose'],
                       prefix='pose_det')]
