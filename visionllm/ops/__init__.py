"""Compiled CPU kernels that mmcv does not provide."""
from .msda import install_cpu_msda, msda_kernel, multi_scale_deformable_attn

__all__ = ['install_cpu_msda', 'msda_kernel', 'multi_scale_deformable_attn']
