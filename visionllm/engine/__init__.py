"""Engine: hooks, strategies, scale-out glue."""
from .autocast import AutocastOptimWrapper
from .hooks import (
                    BadSampleHook,
                    GenerationGridHook,
                    ShowTrainSampleHook,
                    ThroughputHook,
                    TokenizeInWorkersHook,
                    VisionLLMVisualizationHook,
)
from .optim_constructor import MergedGroupsOptimWrapperConstructor, merge_param_groups
from .strategies import TorchFSDPStrategy
from .stream_state import StreamStateHook

__all__ = ['BadSampleHook', 'GenerationGridHook', 'ShowTrainSampleHook', 'ThroughputHook', 'TokenizeInWorkersHook',
           'VisionLLMVisualizationHook', 'TorchFSDPStrategy', 'MergedGroupsOptimWrapperConstructor',
           'merge_param_groups', 'StreamStateHook', 'AutocastOptimWrapper']
