# Open-vocabulary semantic segmentation on ADE20K (SceneParsing, ADEChallengeData2016) in mmseg's layout:
# images/{training,validation}/*.jpg and label PNGs with the same stems in annotations/...; pixel value =
# 1 + index in ADE's 150 class names (read from mmseg's ADE20KDataset), 0 = unlabelled (reduce_zero_label).
# ADE's test labels are not public: the validation split is what is reported (say so beside the numbers).
# Start from a trained checkpoint with `load_from`.
_base_ = ['./visionllm_internvl-tiny_seg_1xb8-2k_synthetic.py']
data_root = 'data/ade/ADEChallengeData2016/'
img_dir = 'images/'
ann_dir = 'annotations/'
train_split, val_split, test_split = 'training', 'validation', 'validation'
public_test_labels = False  # the test split's labels are not public: tools/test.py scores validation
image_size = 512  # longer side at test time; multi-scale x0.75-1.25 + 512 px crops in training
load_from = None
# all 150 names in one test prompt (~3.3k tokens with their query slots): a softmax over every class needs them
# together, so the prompt length limit is raised instead of chunking
model = dict(max_length=4096)

seg_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmseg.LoadAnnotations'),  # reduce_zero_label comes from the dataset
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.RandomResize', scale=(image_size, image_size), ratio_range=(0.75, 1.25), keep_ratio=True,
         resize_type='mmdet.Resize'),
    dict(type='mmseg.RandomCrop', crop_size=(image_size, image_size), cat_max_ratio=0.75),
    dict(type='BuildSegmentationConversation', max_classes=31, p_all=0.5, num_negatives=(1, 8)),
    {{_base_.pack}},
]
seg_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='BuildSegmentationConversation', test_mode=True, max_classes=150),
    {{_base_.pack}},
]
infer_pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(image_size, image_size), keep_ratio=True),
                  {{_base_.pack}}]


def _ade(split, pipeline, test_mode):
    return dict(type='SemSegDataset', data_root=data_root, classes_from='mmseg.ADE20KDataset', reduce_zero_label=True,
                img_suffix='.jpg', data_prefix=dict(img_path=img_dir + split, seg_map_path=ann_dir + split),
                pipeline=pipeline, test_mode=test_mode, _delete_=True)


seg_train = _ade(train_split, seg_train_pipeline, False)
seg_val, seg_test = _ade(val_split, seg_test_pipeline, True), _ade(test_split, seg_test_pipeline, True)
train_dataloader = dict(dataset=seg_train)
val_dataloader = dict(dataset=seg_val)
test_dataloader = dict(dataset=seg_test)
val_evaluator = [dict(type='OVIoUMetric', iou_metrics=['mIoU'])]  # class names from the dataset
test_evaluator = val_evaluator
