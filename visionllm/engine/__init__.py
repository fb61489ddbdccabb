"""Engine: hooks, strategies, scale-out glue."""
from .hooks import (
                    BadSampleHook,
                    GenerationGridHook,
                    PeriodicInferenceHook,
                    ShowTrainSampleHook,
                    ThroughputHook,
                    VisionLLMVisualizationHook,
)
from .strategies import TorchFSDPStrategy

__all__ = ['BadSampleHook', 'GenerationGridHook', 'PeriodicInferenceHook', 'ShowTrainSampleHook', 'ThroughputHook',
           'VisionLLMVisualizationHook', 'TorchFSDPStrategy']
