"""Data transforms: loading, prompts, packing."""
from .formatting import PackVisionLLMInputs
from .loading import LoadImage, read_rgb
from .prompts import (BuildDetectionConversation, BuildGroundingConversation, BuildPoseConversation,
                      BuildSegmentationConversation, LoadPoseAnnotations, RescaleKeypoints)

__all__ = ['LoadImage', 'PackVisionLLMInputs', 'read_rgb', 'BuildDetectionConversation', 'BuildGroundingConversation',
           'BuildSegmentationConversation', 'BuildPoseConversation', 'LoadPoseAnnotations', 'RescaleKeypoints']
