"""Open-vocabulary LVIS box / mask AP (mmdet's LVISMetric on the lvis package): AP, APr / APc / APf."""
from contextlib import contextmanager
from typing import Dict, Sequence

import numpy as np
from mmdet.evaluation import LVISMetric

from visionllm.registry import METRICS
from visionllm.utils.errors import ConfigError

from .detection_metric import FileCategoriesMixin


@contextmanager
def _numpy_float_alias():
    """The lvis package (0.5.3, the last release) still calls ``np.float``, removed in numpy 1.24."""
    added = 'float' not in np.__dict__
    if added:
        np.float = float
    try:
        yield
    finally:
        if added:
            del np.float


@METRICS.register_module()
class OVLvisMetric(FileCategoriesMixin, LVISMetric):
    """mmdet's LVISMetric for predictions whose labels index each sample's own class list (chunks of the
    1203 names are merged by name into the file's category order; see :class:`OVCocoMetric`).

    Args:
        ann_file: the LVIS v1 JSON (``categories`` with ``frequency`` for APr / APc / APf; images with
            ``neg_category_ids`` / ``not_exhaustive_category_ids``).
        answer_mode / tasks: as :class:`OVCocoMetric`.
    """
    default_prefix = 'det'

    def __init__(self, ann_file: str, answer_mode: str = 'prompted', tasks: Sequence[str] = ('det', ), **kwargs):
        try:
            import lvis  # noqa: F401
        except ImportError:
            raise ConfigError('OVLvisMetric needs the lvis package (pip install lvis)') from None
        with _numpy_float_alias():
            super().__init__(ann_file=ann_file, **kwargs)
        self.tasks, self.answer_mode = tuple(tasks), answer_mode
        cats = self._lvis_api.dataset['categories']
        self._classes = tuple(c['name'] for c in cats)
        self.cat_ids = [c['id'] for c in cats]  # label i -> the i-th category of the file

    def compute_metrics(self, results: list) -> Dict[str, float]:
        self.img_ids = sorted({gt['img_id'] for gt, _ in results})  # only the images that were evaluated
        with _numpy_float_alias():
            return super().compute_metrics(results)
