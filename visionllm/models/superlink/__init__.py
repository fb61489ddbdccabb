"""Super-link: routing tokens, query banks, insertion, gathering, free generation."""
from .generation import FreeGenerationOutput, generate_with_queries
from .sampling import GenerationOptions, TokenPicker
from .superlink import SuperLink

__all__ = ['SuperLink', 'FreeGenerationOutput', 'generate_with_queries', 'GenerationOptions', 'TokenPicker']
