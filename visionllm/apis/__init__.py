"""User-facing APIs: inferencer, runner helpers."""
from .runner_utils import build_runner_cfg, check_config_types, friendly_errors

__all__ = ['build_runner_cfg', 'check_config_types', 'friendly_errors']
