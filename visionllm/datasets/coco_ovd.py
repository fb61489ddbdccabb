"""COCO-format instances for open-vocabulary detection; class names read from the annotation file."""
import json
from typing import List, Optional

from mmdet.datasets import CocoDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .skipping import SkipBadSamplesMixin


@DATASETS.register_module()
class CocoOVDDataset(SkipBadSamplesMixin, CocoDataset):
    """mmdet's CocoDataset whose class list comes from the file's ``categories`` (in the file's order, which
    is the order of mmdet's labels, whatever the ids) unless ``metainfo=dict(classes=...)`` is given (then a
    label is its category's index in that list, in whatever order it names them); every
    sample carries the dataset class names (``dataset_classes``) for the prompt builder. Test prompts list
    the names by category id (``prompt_classes``), so that the numbers do not depend on the order in which
    a file happens to list its categories.

    Malformed files raise :class:`DataFormatError` naming the file and the offending field.

    Args:
        class_chunk: in test mode, a class list longer than this is prompted in chunks: every image
            becomes one sample per chunk of ``class_chunk`` names (``class_range``), and the metric
            merges their predictions (80 COCO or 1203 LVIS names do not fit one prompt).
    """
    METAINFO = dict(classes=(), palette=None)

    def __init__(self, *args, data_prefix: dict = None, class_chunk: Optional[int] = None, **kwargs):
        self.class_chunk = class_chunk
        super().__init__(*args, data_prefix=data_prefix or dict(img=''), **kwargs)

    def load_data_list(self) -> List[dict]:
        try:
            with open(self.ann_file) as f:
                raw = json.load(f)
        except FileNotFoundError:
            raise DataFormatError(f'{self.ann_file}: annotation file not found') from None
        except json.JSONDecodeError as e:
            raise DataFormatError(f'{self.ann_file}: invalid JSON ({e.msg} at line {e.lineno})') from None
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(raw.get(key), list):
                raise DataFormatError(f'{self.ann_file}: top-level field `{key}` must be a list')
        for k, c in enumerate(raw['categories']):
            if not isinstance(c, dict) or not isinstance(c.get('name'), str) or 'id' not in c:
                raise DataFormatError(f'{self.ann_file}: `categories[{k}]` needs integer `id` and string `name`')
        for k, a in enumerate(raw['annotations']):
            box = a.get('bbox') if isinstance(a, dict) else None
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
                raise DataFormatError(f'{self.ann_file}: `annotations[{k}].bbox` must be [x, y, w, h] numbers, '
                                      f'got {box!r}')
            if 'image_id' not in a or 'category_id' not in a:
                raise DataFormatError(f'{self.ann_file}: `annotations[{k}]` lacks `image_id` or `category_id`')
        ids = {c['name']: c['id'] for c in raw['categories']}
        if not self._metainfo.get('classes'):  # mmdet's convention: labels follow the file's category order
            self._metainfo['classes'] = tuple(c['name'] for c in raw['categories'])
            prompt = tuple(sorted(self._metainfo['classes'], key=lambda n: ids[n]))
        else:
            prompt = tuple(self._metainfo['classes'])
        del raw
        data_list = super().load_data_list()
        classes = tuple(self._metainfo['classes'])
        names = {i: n for n, i in ids.items()}
        file_order = [names[c] for c in self.cat_ids]  # mmdet's labels: the given names in the file's order
        if file_order != list(classes):  # classes given in another order: a label is its name's index
            remap = [classes.index(n) for n in file_order]
            for d in data_list:
                for inst in d['instances']:
                    inst['bbox_label'] = remap[inst['bbox_label']]
            self.cat_ids = [ids[n] for n in classes if n in ids]
            self.cat2label = {c: classes.index(names[c]) for c in self.cat_ids}
        for d in data_list:
            d['dataset_classes'] = classes
            if self.test_mode:
                d['prompt_classes'] = prompt
        if self.test_mode and self.class_chunk and len(classes) > self.class_chunk:
            n = self.class_chunk
            data_list = [dict(d, class_range=(k, min(k + n, len(classes)))) for d in data_list
                         for k in range(0, len(classes), n)]
        return data_list

    def filter_data(self) -> List[dict]:
        """Keep images without objects unless ``filter_cfg.filter_empty_gt`` is set."""
        if self.filter_cfg and self.filter_cfg.get('filter_empty_gt', False):
            return super().filter_data()
        min_size = (self.filter_cfg or {}).get('min_size', 0)
        return [d for d in self.data_list if min(d['width'], d['height']) >= min_size]
