"""InternVL side of the generalist: MLLM, tokenizer, chat template (image tiling: datasets.transforms.tiling)."""
from .chat_template import IGNORE_INDEX, ChatTemplate
from .internvl import InternVLMLLM
from .tokenizer import build_tokenizer

__all__ = ['IGNORE_INDEX', 'ChatTemplate', 'InternVLMLLM', 'build_tokenizer']
