"""Optimizer-wrapper constructor that keeps one parameter group per distinct setting."""
from typing import Dict, List

from mmengine.optim import DefaultOptimWrapperConstructor

from visionllm.registry import OPTIM_WRAPPER_CONSTRUCTORS


def merge_param_groups(groups: List[dict]) -> List[dict]:
    """Merge parameter groups whose options (everything but ``params``) are equal; the merged groups keep
    the order in which their first member appeared, and each group's parameters keep their order."""
    merged: Dict[tuple, dict] = {}
    for g in groups:
        options = {k: v for k, v in g.items() if k != 'params'}
        key = tuple(sorted((k, repr(v)) for k, v in options.items()))
        merged.setdefault(key, dict(options, params=[]))['params'].extend(g['params'])
    return list(merged.values())


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, but parameters with equal settings share one group.

    With ``paramwise_cfg`` the default constructor gives every parameter its own group (365 groups in the
    tiny generalist), and the optimizer then loops over the groups in Python: a fused AdamW launches one
    kernel per parameter and reads each group's options from a ``ConfigDict``. Merging the groups leaves
    each parameter's lr, weight decay and other options as the default constructor set them.
    Optimizer state saved with per-parameter groups does not load into merged groups (and vice versa).
    """

    def add_params(self, params: List[dict], module, prefix: str = '', is_dcn_module=None) -> None:
        super().add_params(params, module, prefix, is_dcn_module)
        if not prefix:  # the top-level call, after the recursion over the whole model
            params[:] = merge_param_groups(params)
