"""Text-to-image pairs and edit triples (JSONL)."""
import os.path as osp
from typing import List

from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .conversation_dataset import read_jsonl
from .skipping import SkipBadSamplesMixin


def _field(path: str, row: dict, key: str) -> str:
    v = row.get(key)
    if not isinstance(v, str) or not v.strip():
        raise DataFormatError(f'{path}:{row["_line"]}: field `{key}` must be a non-empty string')
    return v


@DATASETS.register_module()
class TextToImageDataset(SkipBadSamplesMixin, BaseDataset):
    """Rows ``{"image": rel_path, "text": prompt, "objects"?: [names]}``: generate ``image`` from ``text``."""

    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
        return [dict(gt_img_path=osp.join(prefix, _field(self.ann_file, r, 'image')),
                     text=_field(self.ann_file, r, 'text'), objects=r.get('objects', []), sample_id=r['_line'],
                     task='gen') for r in read_jsonl(self.ann_file)]


@DATASETS.register_module()
class EditDataset(SkipBadSamplesMixin, BaseDataset):
    """Rows ``{"source": rel_path, "instruction": text, "target": rel_path}``."""

    def load_data_list(self) -> List[dict]:
        prefix = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
        return [dict(img_path=osp.join(prefix, _field(self.ann_file, r, 'source')),
                     gt_img_path=osp.join(prefix, _field(self.ann_file, r, 'target')),
                     instruction=_field(self.ann_file, r, 'instruction'), sample_id=r['_line'], task='edit')
                for r in read_jsonl(self.ann_file)]
