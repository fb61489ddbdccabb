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
from .regions import BuildRegionConversation, rasterize_regions

__all__ = ['LoadImage', 'PackVisionLLMInputs', 'read_rgb', 'BuildDetectionConversation', 'BuildGroundingConversation',
           'BuildSegmentationConversation', 'BuildTaskConversation', 'BuildPoseConversation', 'LoadPoseAnnotations',
           'RescaleKeypoints',
           'LoadTargetImage', 'BuildGenerationConversation', 'BuildEditConversation', 'LoadDetAnnotations',
           'BuildRegionConversation', 'rasterize_regions']
