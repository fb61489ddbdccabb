"""A hook for the streaming tests: appends each training iteration's shard keys to a JSON-lines file."""
import json

from mmengine.hooks import Hook

from visionllm.registry import HOOKS


@HOOKS.register_module()
class StreamKeysHook(Hook):

    def __init__(self, out: str):
        self.out = out

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        keys = [s.metainfo.get('shard_key') for s in data_batch['data_samples']]
        with open(self.out, 'a') as f:
            f.write(json.dumps([runner.iter, keys]) + '\n')
