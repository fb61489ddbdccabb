"""User-facing APIs: inferencer, runner helpers."""
from .image_inputs import list_images, load_image
from .inferencer import VisionLLMInferencer
from .periodic_inference import PeriodicInferenceHook
from .runner_utils import build_runner_cfg, check_config_types, friendly_errors
from .text_inputs import parse_texts

__all__ = ['VisionLLMInferencer', 'list_images', 'load_image', 'parse_texts', 'build_runner_cfg', 'check_config_types',
           'friendly_errors', 'PeriodicInferenceHook']
