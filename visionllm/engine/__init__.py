"""Engine: hooks, optimizer constructors."""
from .hooks import BadSampleHook, GenerationGridHook, VisionLLMVisualizationHook

__all__ = ['BadSampleHook', 'GenerationGridHook', 'VisionLLMVisualizationHook']
