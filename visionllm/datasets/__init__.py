"""Datasets, transforms, samplers and the embedded synthetic data."""
from . import transforms  # noqa: F401
from .coco_ovd import CocoOVDDataset
from .conversation_dataset import ConversationDataset
from .mixture import MixtureDataset
from .referring_dataset import ReferringDataset
from .skipping import SkipBadSamplesMixin, visionllm_collate

__all__ = ['CocoOVDDataset', 'ConversationDataset', 'MixtureDataset', 'ReferringDataset', 'SkipBadSamplesMixin',
           'visionllm_collate']
