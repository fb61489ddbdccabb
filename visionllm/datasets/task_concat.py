"""Evaluation sets of several tasks side by side."""
from typing import List, Union

from mmengine.dataset import BaseDataset, ConcatDataset

from visionllm.registry import DATASETS


@DATASETS.register_module()
class TaskConcatDataset(ConcatDataset):
    """mmengine's ``ConcatDataset`` over datasets of different tasks (detection, segmentation, pose,
    generation, text): their metainfo differ in which keys they have (class lists, palettes, keypoint
    names, ``label_map``, ``reduce_zero_label`` ...), which ``ConcatDataset`` refuses unless each key is
    named in ``ignore_keys``. Every key is ignored here: each sample carries its own task's metadata and
    each task's evaluator reads its own annotation files; the concatenation's metainfo is the first
    dataset's."""

    def __init__(self, datasets: List[Union[BaseDataset, dict]], lazy_init: bool = False):
        built = [DATASETS.build(d) if isinstance(d, dict) else d for d in datasets]
        keys = sorted(set().union(*(set(d.metainfo) for d in built)))
        super().__init__(built, lazy_init=lazy_init, ignore_keys=keys)
