"""Data structures shared by datasets, models, metrics and visualizers."""
from .data_sample import VisionLLMDataSample
from .task_conditions import TaskConditions
from .tasks import TaskSpec, task_spec, task_specs

__all__ = ['VisionLLMDataSample', 'TaskConditions', 'TaskSpec', 'task_spec', 'task_specs']
