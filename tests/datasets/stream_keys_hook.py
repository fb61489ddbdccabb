"""A hook for the streaming tests: appends each training iteration's shard keys to a JSON-lines file
(``OUT.rankN`` under several processes)."""
import json

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

from visionllm.registry import HOOKS


@HOOKS.register_module()
class StreamKeysHook(Hook):

    def __init__(self, out: str):
        self.out = out

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        keys = [s.metainfo.get('shard_key') for s in data_batch['data_samples']]
        out = f'{self.out}.rank{get_rank()}' if get_world_size() > 1 else self.out
        with open(out, 'a') as f:
            f.write(json.dumps([runner.iter, keys]) + '\n')
