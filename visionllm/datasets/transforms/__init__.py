"""Data transforms: loading, prompts, packing."""
from .formatting import PackVisionLLMInputs
from .loading import LoadImage, read_rgb
from .prompts import BuildDetectionConversation, BuildGroundingConversation

__all__ = ['LoadImage', 'PackVisionLLMInputs', 'read_rgb', 'BuildDetectionConversation', 'BuildGroundingConversation']
