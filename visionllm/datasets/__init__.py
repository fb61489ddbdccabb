"""Datasets, transforms, samplers and the embedded synthetic data."""
from . import transforms  # noqa: F401
from .coco_ovd import CocoOVDDataset
from .conversation_dataset import ConversationDataset
from .image_pair_dataset import EditDataset, TextToImageDataset
from .keypoint_dataset import CocoKeypointDataset
from .lvis_ovd import LvisOVDDataset
from .mixture import MixtureDataset
from .refcoco_dataset import RefCocoGroundingDataset
from .referring_dataset import ReferringDataset
from .region_dataset import RegionDataset
from .samplers import TaskGroupedBatchSampler
from .semseg_dataset import SemSegDataset
from .skipping import SkipBadSamplesMixin, visionllm_collate
from .streaming import HFStreamingDataset, StreamingDataset, StreamingMixture
from .task_concat import TaskConcatDataset

__all__ = ['CocoOVDDataset', 'ConversationDataset', 'EditDataset', 'TextToImageDataset', 'CocoKeypointDataset',
           'LvisOVDDataset', 'MixtureDataset', 'RefCocoGroundingDataset', 'ReferringDataset', 'RegionDataset',
           'TaskGroupedBatchSampler', 'SemSegDataset', 'SkipBadSamplesMixin', 'TaskConcatDataset', 'visionllm_collate',
           'StreamingDataset', 'StreamingMixture', 'HFStreamingDataset']
