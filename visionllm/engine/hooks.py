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


@HOOKS.register_module()
class VisionLLMVisualizationHook(Hook):
    """Draw test predictions to ``{work_dir}/{timestamp}/{test_out_dir}/{index}_{image name}``.

    Args:
        draw: enable drawing (``tools/test.py --show-dir`` sets it).
        test_out_dir: output folder (relative to the run's log dir unless absolute).
        score_thr: minimum score of drawn instances.
    """

    def __init__(self, draw: bool = False, test_out_dir: str = 'vis', score_thr: float = 0.3):
        self.draw, self.test_out_dir, self.score_thr = draw, test_out_dir, score_thr
        self._index = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.draw or not outputs:
            return
        import os
        import os.path as osp

        from visionllm.datasets.transforms.loading import read_rgb
        out_dir = self.test_out_dir if osp.isabs(self.test_out_dir) else \
            osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
        os.makedirs(out_dir, exist_ok=True)
        for s in outputs:
            img = read_rgb(s.img_path)
            out = osp.join(out_dir, f'{self._index:05d}_{osp.basename(s.img_path)}')
            runner.visualizer.add_datasample(osp.basename(s.img_path), img, s, pred_score_thr=self.score_thr,
                                             out_file=out)
            self._index += 1
