"""Engine: hooks, optimizer constructors."""
from .hooks import (
                    BadSampleHook,
                    GenerationGridHook,
                    PeriodicInferenceHook,
                    ShowTrainSampleHook,
                    ThroughputHook,
                    VisionLLMVisualizationHook,
)

__all__ = ['BadSampleHook', 'GenerationGridHook', 'PeriodicInferenceHook', 'ShowTrainSampleHook', 'ThroughputHook',
           'VisionLLMVisualizationHook']
