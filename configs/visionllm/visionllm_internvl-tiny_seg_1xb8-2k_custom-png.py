# Fine-tune open-vocabulary semantic segmentation on YOUR data in the common PNG-per-image layout (no code
# changes): images in data_root/img_dir/{train,val}, label PNGs with the same file names in
# data_root/ann_dir/{train,val,test} (pixel value = index in that split's class list, 255 = ignore), and a JSON
# list of class names per split (give the same file three times when the splits share one list).
_base_ = ['./visionllm_internvl-tiny_seg_1xb8-2k_synthetic.py']
data_root = 'data/my_seg/'
img_dir = 'images/'
ann_dir = 'semseg/'
classes_files = {s: data_root + f'annotations/semseg_classes_{s}.json' for s in ('train', 'val', 'test')}
img_suffix = '.png'
load_from = None
seg_train = dict(type='SemSegDataset', data_root=data_root, classes_file=classes_files['train'], img_suffix=img_suffix,
                 data_prefix=dict(img_path=img_dir + 'train', seg_map_path=ann_dir + 'train'),
                 pipeline={{_base_.seg_train_pipeline}})
seg_val, seg_test = (dict(type='SemSegDataset', data_root=data_root, classes_file=classes_files[s],
                          img_suffix=img_suffix, data_prefix=dict(img_path=img_dir + s, seg_map_path=ann_dir + s),
                          pipeline={{_base_.seg_test_pipeline}}, test_mode=True) for s in ('val', 'test'))
train_dataloader = dict(dataset=seg_train)
val_dataloader = dict(dataset=seg_val)
test_dataloader = dict(dataset=seg_test)
val_evaluator = [dict(type='OVIoUMetric', classes_file=classes_files['val'], iou_metrics=['mIoU'])]
test_evaluator = [dict(type='OVIoUMetric', classes_file=classes_files['test'], iou_metrics=['mIoU'])]
