"""Models: the generalist, its MLLM, the super-link and the specialist decoders."""
from .data_preprocessor import VisionLLMDataPreprocessor
from .decoders import *  # noqa: F401,F403
from .mllm import InternVLMLLM
from .specialist import ClosedSetSpecialist
from .superlink import SuperLink
from .visionllm import VisionLLM

__all__ = ['ClosedSetSpecialist', 'VisionLLM', 'VisionLLMDataPreprocessor', 'InternVLMLLM', 'SuperLink']
