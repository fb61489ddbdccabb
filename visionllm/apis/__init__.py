"""User-facing APIs: inferencer, runner helpers."""
from .inferencer import VisionLLMInferencer, list_images, parse_texts
from .runner_utils import build_runner_cfg, check_config_types, friendly_errors

__all__ = ['VisionLLMInferencer', 'list_images', 'parse_texts', 'build_runner_cfg', 'check_config_types',
           'friendly_errors']
