"""RefCOCO / RefCOCO+ / RefCOCOg in mmdet's layout (``instances.json`` + ``refs(unc).p``) for [GRD]."""
import os.path as osp
from typing import List

import mmengine
from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .skipping import SkipBadSamplesMixin


@DATASETS.register_module()
class RefCocoGroundingDataset(SkipBadSamplesMixin, BaseDataset):
    """The files mmdet's ``RefCocoDataset`` reads: the COCO ``instances.json`` of the refs' images and the
    pickled refs (``refs(unc).p``, ``refs(umd).p`` ...: ``ref_id``, ``ann_id``, ``image_id``, ``split``,
    ``sentences[*].raw``). Every sentence of a ref in ``split`` is one sample (``expression``; commas kept)
    whose single instance is the referred object (box and mask), as :class:`ReferringDataset` gives.

    Args:
        split_file: the refs pickle (relative to ``data_root``).
        split: ``train``, ``val``, ``test``, ``testA`` or ``testB``.
    """

    def __init__(self, *args, split_file: str, split: str = 'train', **kwargs):
        self.split_file, self.split = split_file, split
        super().__init__(*args, **kwargs)

    def _join_prefix(self):
        if self.split_file and not osp.isabs(self.split_file):
            self.split_file = osp.join(self.data_root, self.split_file)
        return super()._join_prefix()

    def load_data_list(self) -> List[dict]:
        for path in (self.ann_file, self.split_file):
            if not osp.isfile(path):
                raise DataFormatError(f'{path}: file not found')
        refs = mmengine.load(self.split_file, file_format='pkl')
        instances = mmengine.load(self.ann_file, file_format='json')
        anns = {a['id']: a for a in instances.get('annotations', [])}
        images = {i['id']: i for i in instances.get('images', [])}
        prefix = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
        out = []
        for ref in refs:
            if ref.get('split') != self.split:
                continue
            ann, img = anns.get(ref.get('ann_id')), images.get(ref.get('image_id'))
            if ann is None or img is None:
                raise DataFormatError(f'{self.split_file}: ref {ref.get("ref_id")} names ann_id {ref.get("ann_id")} / '
                                      f'image_id {ref.get("image_id")}, absent from {self.ann_file}')
            x, y, w, h = ann['bbox']
            inst = dict(bbox=[x, y, x + w, y + h], bbox_label=0, ignore_flag=0)
            if ann.get('segmentation'):
                inst['mask'] = ann['segmentation']
            for k, sentence in enumerate(ref.get('sentences', [])):
                out.append(dict(img_path=osp.join(prefix, img['file_name']), img_id=img['id'],
                                sample_id=f'{ref["ref_id"]}_{k}', expression=sentence['raw'], instances=[inst],
                                task='grounding', ref_bbox=list(inst['bbox'])))
        if not out:
            raise DataFormatError(f'{self.split_file}: no refs of split {self.split!r}')
        return out
