"""Engine: hooks, optimizer constructors."""
from .hooks import BadSampleHook, VisionLLMVisualizationHook

__all__ = ['BadSampleHook', 'VisionLLMVisualizationHook']
