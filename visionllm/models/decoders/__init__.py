"""Specialist decoders, one file per family."""
from .base import BaseTaskDecoder
from .batch_matching import BatchHungarianAssigner, BatchMatchingGroundingDINOHead
from .detection import OVDetectionDecoder
from .detection_transformer import ConditionedGroundingDINO
from .editing import DiffusionEditDecoder
from .generation import DiffusionGenerationDecoder
from .pose import OVPoseDecoder
from .semantic_seg import OVSemSegDecoder

__all__ = ['BaseTaskDecoder', 'BatchHungarianAssigner', 'BatchMatchingGroundingDINOHead',
           'OVDetectionDecoder', 'ConditionedGroundingDINO', 'OVSemSegDecoder', 'OVPoseDecoder',
           'DiffusionGenerationDecoder', 'DiffusionEditDecoder']
