"""COCO keypoints JSON (one image per sample, all its instances); keypoint names from the file."""
import json
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .skipping import SkipBadSamplesMixin


@DATASETS.register_module()
class CocoKeypointDataset(SkipBadSamplesMixin, BaseDataset):
    """Reads ``categories[*].keypoints`` / ``skeleton`` (the first category with keypoints, or
    ``category``) and per image every annotation of that category: ``instances`` with ``bbox`` (xyxy),
    ``keypoints`` [K, 2], ``keypoints_visible`` [K] (v > 0), in mmdet's layout plus keypoints.
    Metainfo: ``classes`` (the category name), ``keypoint_names``, ``skeleton`` (pairs of names)."""

    def __init__(self, *args, category: Optional[str] = None, data_prefix: dict = None, **kwargs):
        self.category = category
        super().__init__(*args, data_prefix=data_prefix or dict(img=''), **kwargs)

    def load_data_list(self) -> List[dict]:
        try:
            with open(self.ann_file) as f:
                raw = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise DataFormatError(f'{self.ann_file}: cannot read keypoint annotations ({e})') from None
        cats = [c for c in raw.get('categories', []) if c.get('keypoints') and
                (self.category is None or c.get('name') == self.category)]
        if not cats:
            raise DataFormatError(f'{self.ann_file}: no category with a `keypoints` list'
                                  + (f' named {self.category!r}' if self.category else ''))
        cat = cats[0]
        names = list(cat['keypoints'])
        skeleton = [(names[a - 1], names[b - 1]) for a, b in cat.get('skeleton', [])]
        self._metainfo.update(classes=(cat['name'], ), keypoint_names=tuple(names), skeleton=skeleton)
        per_image = {}
        for k, a in enumerate(raw.get('annotations', [])):
            if a.get('category_id') != cat['id']:
                continue
            kp = a.get('keypoints')
            if not isinstance(kp, list) or len(kp) != 3 * len(names) or not isinstance(a.get('bbox'), list):
                raise DataFormatError(f'{self.ann_file}: `annotations[{k}]` needs `bbox` and {3 * len(names)} '
                                      f'`keypoints` values ({len(names)} x (x, y, v))')
            kp = np.asarray(kp, np.float32).reshape(-1, 3)
            x, y, w, h = a['bbox']
            if w < 1 or h < 1:
                continue
            per_image.setdefault(a['image_id'], []).append(dict(
                bbox=[x, y, x + w, y + h], bbox_label=0, ignore_flag=int(a.get('iscrowd', 0)),
                keypoints=kp[:, :2], keypoints_visible=(kp[:, 2] > 0).astype(np.float32)))
        prefix = self.data_prefix.get('img', '')
        out = []
        for img in raw.get('images', []):
            out.append(dict(img_path=osp.join(prefix, img['file_name']), img_id=img['id'],
                            instances=per_image.get(img['id'], []), dataset_classes=(cat['name'], ),
                            keypoint_names=tuple(names), skeleton=skeleton))
        return out
