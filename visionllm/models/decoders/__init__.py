"""Specialist decoders, one file per family."""
from .base import BaseTaskDecoder
from .detection import OVDetectionDecoder
from .detection_transformer import ConditionedGroundingDINO

__all__ = ['BaseTaskDecoder', 'OVDetectionDecoder', 'ConditionedGroundingDINO']
