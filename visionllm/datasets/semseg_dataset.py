"""Semantic segmentation in the common PNG-per-image layout (mmseg's BaseSegDataset)."""
import json
from typing import List, Optional

from mmseg.datasets import BaseSegDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .skipping import SkipBadSamplesMixin


def _home_classes(name: str) -> tuple:
    """``METAINFO['classes']`` of a dataset class registered in mmseg / mmdet / visionllm (``scope.Name``)."""
    from mmengine.registry import DefaultScope
    scope, _, cls = name.rpartition('.')
    with DefaultScope.overwrite_default_scope(scope or 'visionllm'):
        dataset = DATASETS.get(name)
    classes = getattr(dataset, 'METAINFO', {}).get('classes') if dataset is not None else None
    if not classes:
        raise DataFormatError(f'classes_from={name!r}: no registered dataset class with METAINFO classes')
    return tuple(classes)


@DATASETS.register_module()
class SemSegDataset(SkipBadSamplesMixin, BaseSegDataset):
    """Images in ``data_prefix.img_path``, label PNGs (value = class index, 255 = ignore) in
    ``data_prefix.seg_map_path``; class names from ``metainfo=dict(classes=...)``, a JSON list in
    ``classes_file``, or the ``METAINFO`` of a registered dataset class (``classes_from``, e.g.
    ``'mmseg.ADE20KDataset'`` for ADE20K's 150 names, with ``reduce_zero_label=True``: 0 = unlabelled).
    Every sample carries the class names (``dataset_classes``)."""
    METAINFO: dict = dict()  # no default classes: mmseg would try to remap to them

    def __init__(self, *args, classes_file: Optional[str] = None, classes_from: Optional[str] = None,
                 img_suffix: str = '.png', seg_map_suffix: str = '.png', **kwargs):
        self.classes_file = classes_file
        if classes_from:
            kwargs['metainfo'] = dict(kwargs.get('metainfo') or {}, classes=tuple(_home_classes(classes_from)))
        if classes_file:
            try:
                with open(classes_file) as f:
                    classes = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                raise DataFormatError(f'{classes_file}: cannot read the class list ({e})') from None
            if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
                raise DataFormatError(f'{classes_file}: expected a JSON list of class names')
            kwargs['metainfo'] = dict(kwargs.get('metainfo') or {}, classes=tuple(classes))
        super().__init__(*args, img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not self.metainfo.get('classes'):
            raise DataFormatError(f'{self.data_root}: no class list; give metainfo=dict(classes=...) or '
                                  'classes_file=<JSON list>')
        data = super().load_data_list()
        for d in data:
            d['dataset_classes'] = tuple(self.metainfo['classes'])
        return data
