"""Referring expressions (JSONL): one phrase -> one object, for the [GRD] route."""
import os.path as osp
from typing import List

from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .conversation_dataset import read_jsonl
from .skipping import SkipBadSamplesMixin


@DATASETS.register_module()
class ReferringDataset(SkipBadSamplesMixin, BaseDataset):
    """Rows ``{"image", "expression", "bbox": [x, y, w, h], "segmentation"?: polygons | RLE}``.

    Each row becomes one sample whose single instance (label 0) is the referred object, in mmdet's
    ``instances`` layout so ``mmdet.LoadAnnotations`` loads box and mask; ``ref_bbox`` keeps the box
    (xyxy) in the original image's coordinates for the metric, whatever the pipeline does to ``gt_bboxes``.
    """

    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
        out = []
        for row in read_jsonl(self.ann_file):
            where = f'{self.ann_file}:{row["_line"]}'
            box = row.get('bbox')
            if not isinstance(row.get('image'), str) or not isinstance(row.get('expression'), str):
                raise DataFormatError(f'{where}: fields `image` and `expression` must be strings')
            if not (isinstance(box, list) and len(box) == 4):
                raise DataFormatError(f'{where}: field `bbox` must be [x, y, w, h], got {box!r}')
            x, y, w, h = box
            inst = dict(bbox=[x, y, x + w, y + h], bbox_label=0, ignore_flag=0)
            if row.get('segmentation') is not None:
                inst['mask'] = row['segmentation']
            out.append(dict(img_path=osp.join(prefix, row['image']), img_id=row.get('image_id'),
                            sample_id=row.get('id', row['_line']), expression=row['expression'],
                            instances=[inst], task='grounding', ref_bbox=list(inst['bbox'])))
        return out
