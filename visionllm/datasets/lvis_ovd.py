"""LVIS v1 instances (the lvis package's format) for open-vocabulary detection."""
from visionllm.registry import DATASETS

from .coco_ovd import CocoOVDDataset


@DATASETS.register_module()
class LvisOVDDataset(CocoOVDDataset):
    """:class:`CocoOVDDataset` on an LVIS v1 file: images have no ``file_name``; their path under the COCO
    image root is taken from ``coco_url`` (``http://images.cocodataset.org/val2017/x.jpg`` ->
    ``val2017/x.jpg``), as mmdet's ``LVISV1Dataset`` does. The 1203 names are prompted in chunks at test
    time (``class_chunk``); the metric is :class:`~visionllm.evaluation.OVLvisMetric`.

    LVIS is federated: an image's annotations are exhaustive only for its own categories, and only its
    ``neg_category_ids`` are verified absent. Each sample carries those names (``negative_classes``), so that
    training prompts take their negatives from them alone (:class:`BuildDetectionConversation`)."""

    def parse_data_info(self, raw_data_info: dict):
        info = raw_data_info['raw_img_info']
        if 'file_name' not in info and 'coco_url' in info:
            info['file_name'] = info['coco_url'].split('/', 3)[-1]
        data_info = super().parse_data_info(raw_data_info)
        classes = self._metainfo['classes']
        data_info['negative_classes'] = [classes[self.cat2label[c]] for c in info.get('neg_category_ids', [])
                                         if c in self.cat2label]
        return data_info
