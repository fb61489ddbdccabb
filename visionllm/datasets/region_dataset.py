"""Visual-prompt samples derived from a COCO instances file: regions drawn from the instance masks."""
from typing import List, Sequence

from visionllm.registry import DATASETS

from .coco_ovd import CocoOVDDataset


@DATASETS.register_module()
class RegionDataset(CocoOVDDataset):
    """A COCO instances file (the detection data itself) read as region-prompt samples of one task
    (``BuildRegionConversation`` draws the region from an object's mask and writes the conversation).

    Training: one sample per image that has an object; the pipeline picks the object and region kind (one
    region per sample). Images with an object that has no ``segmentation`` are left out.
    Test: deterministic samples - ``region-caption`` / ``interactive-seg``: one per object and region kind in
    ``kinds``; ``detect-by-example``: one per (image, category present), the exemplar being the category's
    largest object. Each test sample carries ``region_instance``, ``region_kind`` and ``region_gt`` (the
    prompted object's COCO ``segmentation``, in the file's original coordinates, for the metrics).

    Args:
        task: ``region-caption``, ``interactive-seg`` or ``detect-by-example``.
        kinds: test region kinds (``box``, ``point``, ``scribble``, ``mask``).
    """

    def __init__(self, *args, task: str = 'interactive-seg', kinds: Sequence[str] = ('box', ), **kwargs):
        self.task, self.kinds = task, tuple(kinds)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        out = []
        for d in super().load_data_list():
            d.pop('class_range', None)
            insts = d['instances']
            objs = [i for i, x in enumerate(insts) if not x.get('ignore_flag') and x.get('mask')]
            if not objs or len(objs) < sum(not x.get('ignore_flag') for x in insts):
                continue  # regions are drawn from masks: images with an object without one are left out
            d['task'] = self.task
            if not self.test_mode:
                out.append(d)
            elif self.task == 'detect-by-example':
                by_cat = {}
                for i in objs:
                    by_cat.setdefault(insts[i]['bbox_label'], []).append(i)
                for cat in sorted(by_cat):
                    big = max(by_cat[cat], key=lambda i: _area(insts[i]['bbox']))
                    out.extend(self._sample(d, big, k) for k in self.kinds)
            else:
                out.extend(self._sample(d, i, k) for i in objs for k in self.kinds)
        return out

    def _sample(self, d: dict, obj: int, kind: str) -> dict:
        return dict(d, region_instance=obj, region_kind=kind, region_gt=d['instances'][obj]['mask'],
                    sample_id=f'{d["img_id"]}-{obj}-{kind}')

    def filter_data(self) -> List[dict]:
        return self.data_list


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
