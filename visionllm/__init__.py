"""visionllm: one InternVL generalist routing to specialist decoders (VisionLLM v2 style)."""
from .utils.mmcv_ops import ensure_mmcv_ops

__version__ = '0.1.0'
HAS_COMPILED_MMCV_OPS = ensure_mmcv_ops()
