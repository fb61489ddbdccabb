"""Data transforms: loading, prompts, packing."""
from .formatting import PackVisionLLMInputs
from .loading import LoadDetAnnotations, LoadImage, LoadTargetImage, read_rgb
from .prompts import (
                      BuildDetectionConversation,
                      BuildEditConversation,
                      BuildGenerationConversation,
                      BuildGroundingConversation,
                      BuildPoseConversation,
                      BuildSegmentationConversation,
                      BuildTaskConversation,
                      LoadPoseAnnotations,
                      RescaleKeypoints,
)

__all__ = ['LoadImage', 'PackVisionLLMInputs', 'read_rgb', 'BuildDetectionConversation', 'BuildGroundingConversation',
           'BuildSegmentationConversation', 'BuildTaskConversation', 'BuildPoseConversation', 'LoadPoseAnnotations',
           'RescaleKeypoints',
           'LoadTargetImage', 'BuildGenerationConversation', 'BuildEditConversation', 'LoadDetAnnotations']
