"""Utilities: compiled-op fallback, error types, config checks."""
from .errors import BadSampleError, ConfigError, DataFormatError, PromptError, VisionLLMError
from .mmcv_ops import MissingCompiledOpError, ensure_mmcv_ops, has_compiled_ops

__all__ = [
    'BadSampleError', 'ConfigError', 'DataFormatError', 'PromptError', 'VisionLLMError',
    'MissingCompiledOpError', 'ensure_mmcv_ops', 'has_compiled_ops'
]
