"""Models: the generalist, its MLLM, the super-link and the specialist decoders."""
from .answer_classifier import AnswerClassifier
from .data_preprocessor import VisionLLMDataPreprocessor
from .decoders import *  # noqa: F401,F403
from .mllm import InternVLMLLM
from .region_encoder import RegionEncoder
from .region_selection import rescore_by_region
from .specialist import ClosedSetSpecialist
from .specialist_chain import SpecialistChain
from .superlink import SuperLink
from .text_embedding_baseline import TextEmbeddingBaseline
from .visionllm import VisionLLM

__all__ = ['AnswerClassifier', 'VisionLLMDataPreprocessor', 'InternVLMLLM', 'ClosedSetSpecialist', 'SpecialistChain',
           'SuperLink', 'TextEmbeddingBaseline', 'VisionLLM', 'RegionEncoder', 'rescore_by_region']
