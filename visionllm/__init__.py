"""visionllm: one InternVL generalist routing to specialist decoders (VisionLLM v2 style)."""
from .ops import install_cpu_msda
from .utils.mmcv_ops import ensure_mmcv_ops

__version__ = '0.1.0'
HAS_COMPILED_MMCV_OPS = ensure_mmcv_ops()
install_cpu_msda()  # mmcv's deformable attention on CPU through visionllm/ops/csrc (built on first use)
