# Fine-tune open-vocabulary semantic segmentation on YOUR data in the common PNG-per-image layout (no code
# changes): images in data_root/img_dir/{train,val}, label PNGs with the same file names in
# data_root/ann_dir/{train,val} (pixel value = class index, 255 = ignore), and a JSON list of class names.
_base_ = ['./visionllm_internvl-tiny_seg_1xb8-2k_synthetic.py']
data_root = 'data/my_seg/'
img_dir = 'images/'
ann_dir = 'semseg/'
classes_file = data_root + 'annotations/semseg_classes.json'
img_suffix = '.png'
load_from = None
seg_train = dict(type='SemSegDataset', data_root=data_root, classes_file=classes_file, img_suffix=img_suffix,
                 data_prefix=dict(img_path=img_dir + 'train', seg_map_path=ann_dir + 'train'),
                 pipeline={{_base_.seg_train_pipeline}})
seg_val = dict(type='SemSegDataset', data_root=data_root, classes_file=classes_file, img_suffix=img_suffix,
               data_prefix=dict(img_path=img_dir + 'val', seg_map_path=ann_dir + 'val'),
               pipeline={{_base_.seg_test_pipeline}}, test_mode=True)
train_dataloader = dict(dataset=seg_train)
val_dataloader = dict(dataset=seg_val)
test_dataloader = val_dataloader
val_evaluator = [dict(type='OVIoUMetric', classes_file=classes_file, iou_metrics=['mIoU'])]
test_evaluator = val_evaluator
