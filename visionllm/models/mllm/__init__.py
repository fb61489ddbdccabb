"""InternVL side of the generalist: MLLM, tokenizer, chat template, tiling."""
from .chat_template import IGNORE_INDEX, ChatTemplate
from .internvl import InternVLMLLM
from .tiling import closest_grid, target_grids, tile_image
from .tokenizer import build_tokenizer

__all__ = ['IGNORE_INDEX', 'ChatTemplate', 'InternVLMLLM', 'closest_grid', 'target_grids', 'tile_image',
           'build_tokenizer']
