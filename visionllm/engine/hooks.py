"""Hooks: bad-sample accounting."""
from mmengine.hooks import Hook

from visionllm.registry import HOOKS


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count and log the samples the dataset skipped (see ``SkipBadSamplesMixin``).

    Every skipped sample is logged once with its reason (up to ``max_detailed``, then only counted);
    the running total goes to the message hub as ``train/skipped_samples`` and is logged at the end.
    """
    priority = 'NORMAL'

    def __init__(self, max_detailed: int = 20):
        self.max_detailed = max_detailed
        self.count = 0

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        skipped = (data_batch or {}).get('skipped') or []
        for s in skipped:
            self.count += 1
            if self.count <= self.max_detailed:
                runner.logger.warning(f'skipped training sample #{s["index"]}: {s["reason"]}')
            elif self.count == self.max_detailed + 1:
                runner.logger.warning('more samples skipped; only counting from now on')
        runner.message_hub.update_info('train/skipped_samples', self.count)

    def after_train(self, runner) -> None:
        runner.logger.info(f'skipped {self.count} bad training samples in total')
