"""Models: the generalist, its MLLM, the super-link and the specialist decoders."""
from .data_preprocessor import VisionLLMDataPreprocessor
from .decoders import *  # noqa: F401,F403
from .mllm import InternVLMLLM
from .superlink import SuperLink
from .visionllm import VisionLLM

__all__ = ['VisionLLM', 'VisionLLMDataPreprocessor', 'InternVLMLLM', 'SuperLink']
