"""LVIS is federated: training prompts take their negatives from each image's verified-absent categories."""
import numpy as np


def test_lvis_negatives_come_from_each_images_neg_category_ids(tmp_path):
    from tests.real_data import write_lvis
    from visionllm.datasets import LvisOVDDataset
    from visionllm.datasets.transforms.prompts import BuildDetectionConversation
    root = str(tmp_path)
    write_lvis(root)
    ds = LvisOVDDataset(data_root=root + '/', ann_file='annotations/lvis_v1_val.json', pipeline=[])
    classes = ds.metainfo['classes']
    absent = [classes[ds.cat2label[11]], classes[ds.cat2label[14]]]  # the file's neg_category_ids
    build = BuildDetectionConversation(p_all=1.0, num_negatives=(1, 30))  # all classes unless federated
    np.random.seed(0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['negative_classes'] == absent
        labels = np.array([inst['bbox_label'] for inst in info['instances']], np.int64)
        positives = {classes[k] for k in labels}
        for _ in range(20):
            out = build(dict(img_path=info['img_path'], dataset_classes=classes, gt_bboxes_labels=labels.copy(),
                             negative_classes=info['negative_classes']))
            assert positives <= set(out['class_names']) <= positives | set(absent), out['class_names']
    # a dataset that is not federated (no negative_classes) still gets all classes with p_all=1
    out = build(dict(img_path='x', dataset_classes=classes[:10], gt_bboxes_labels=np.zeros(1, np.int64)))
    assert sorted(out['class_names']) == sorted(classes[:10])
