"""Test helper imported by subprocess configs (custom_imports): records every rank's losses."""
import json
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from visionllm.registry import HOOKS


@HOOKS.register_module()
class LossRecorderHook(Hook):
    """Append each iteration's loss of this rank to ``{work_dir}/losses_rank{r}.json``."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        path = osp.join(runner.work_dir, f'losses_rank{get_rank()}.json')
        rows = json.load(open(path)) if osp.exists(path) else []
        rows.append({k: float(v) for k, v in (outputs or {}).items()})
        with open(path, 'w') as f:
            json.dump(rows, f)
