"""Data structures shared by datasets, models, metrics and visualizers."""
from .data_sample import VisionLLMDataSample
from .task_conditions import TaskConditions

__all__ = ['VisionLLMDataSample', 'TaskConditions']
