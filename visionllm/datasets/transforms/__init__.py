"""Data transforms: loading, prompts, packing."""
from .formatting import PackVisionLLMInputs
from .loading import LoadImage, LoadTargetImage, read_rgb
from .prompts import (
                      BuildDetectionConversation,
                      BuildEditConversation,
                      BuildGenerationConversation,
                      BuildGroundingConversation,
                      BuildPoseConversation,
                      BuildSegmentationConversation,
                      LoadPoseAnnotations,
                      RescaleKeypoints,
)

__all__ = ['LoadImage', 'PackVisionLLMInputs', 'read_rgb', 'BuildDetectionConversation', 'BuildGroundingConversation',
           'BuildSegmentationConversation', 'BuildPoseConversation', 'LoadPoseAnnotations', 'RescaleKeypoints',
           'LoadTargetImage', 'BuildGenerationConversation', 'BuildEditConversation']
