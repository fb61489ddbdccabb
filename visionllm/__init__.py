"""visionllm: one InternVL generalist routing to specialist decoders (VisionLLM v2 style)."""
from .utils.quiet import quiet_deepspeed_detection

quiet_deepspeed_detection()  # before anything imports deepspeed
from .ops import install_cpu_msda  # noqa: E402
from .utils.mmcv_ops import ensure_mmcv_ops  # noqa: E402
from .utils.quiet import silence_library_noise  # noqa: E402

__version__ = '0.1.0'
HAS_COMPILED_MMCV_OPS = ensure_mmcv_ops()
install_cpu_msda()  # mmcv's deformable attention on CPU through visionllm/ops/csrc (built on first use)
silence_library_noise()  # after ensure_mmcv_ops: it imports mmdet / mmseg
