"""Hooks: bad-sample accounting, drawing, sample grids, throughput (periodic inference: apis, beside the
inferencer it runs). Hooks that write
files write them on the main process only (or name them by rank), so multi-process runs do not race."""
import numpy as np
from mmengine.dist import get_rank, get_world_size, is_main_process
from mmengine.hooks import Hook

from visionllm.registry import HOOKS


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count and log the samples the dataset skipped (see ``SkipBadSamplesMixin``).

    Every skipped sample is logged once with its reason (up to ``max_detailed``, then only counted);
    the running total goes to the message hub as ``train/skipped_samples`` and is logged at the end. The
    total is saved in checkpoints (``meta.skipped_samples``, this process's count) and resumes with them.
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

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['skipped_samples'] = self.count

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.count = int(checkpoint.get('meta', {}).get('skipped_samples', 0))

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
            src = s.get('img_path')
            if src:
                img = read_rgb(src)
            else:  # a text-only prompt (generation): no input image, the picture is the generated one
                h, w = s.get('ori_shape', (64, 64))
                img = np.zeros((h, w, 3), np.uint8)
                src = s.get('gt_img_path') or 'generated.png'
            name = osp.splitext(osp.basename(src))[0] + '.png'
            rank = f'rank{get_rank()}_' if get_world_size() > 1 else ''  # each process draws its own samples
            out = osp.join(out_dir, f'{rank}{self._index:05d}_{name}')
            runner.visualizer.add_datasample(name, img, s, pred_score_thr=self.score_thr, out_file=out)
            self._index += 1


@HOOKS.register_module()
class GenerationGridHook(Hook):
    """Save a grid of the images generated / edited during validation and testing to
    ``{log_dir}/{val|test}_samples_{iter}.png`` (first ``max_images``; edits shown as source | result)."""

    def __init__(self, max_images: int = 16, per_row: int = 8):
        self.max_images, self.per_row = max_images, per_row
        self._images = []

    def _collect(self, outputs) -> None:
        import numpy as np
        for s in outputs or []:
            if 'pred_image' in s and len(self._images) < self.max_images:
                self._images.append(s.pred_image.cpu().numpy().transpose(1, 2, 0).astype(np.uint8))

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._collect(outputs)

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._collect(outputs)

    def _save(self, runner, mode: str) -> None:
        import os.path as osp

        import cv2
        import numpy as np
        if not self._images or not is_main_process():  # the main process's samples
            self._images = []
            return
        size = self._images[0].shape[:2]
        tiles = [cv2.resize(im, size[::-1]) for im in self._images]
        tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % self.per_row)
        rows = [np.concatenate(tiles[i:i + self.per_row], 1) for i in range(0, len(tiles), self.per_row)]
        path = osp.join(runner.log_dir, f'{mode}_samples_{runner.iter}.png')
        cv2.imwrite(path, np.concatenate(rows, 0)[..., ::-1])
        runner.logger.info(f'saved {len(self._images)} generated images to {path}')
        self._images = []

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._save(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._save(runner, 'test')


@HOOKS.register_module()
class ShowTrainSampleHook(Hook):
    """At the first training iteration, log ``num_samples`` samples of the batch as the model sees them:
    the chat-template text with routing tokens and query slots (decoded from the token ids), the learned
    (assistant) part, and the decoder targets."""

    def __init__(self, num_samples: int = 1):
        self.num_samples = num_samples
        self._done = False

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._done or not data_batch or not data_batch.get('data_samples'):
            return
        self._done = True
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if not hasattr(model, 'encode_sample'):
            return
        tok = model.tokenizer
        ctx = tok.convert_tokens_to_ids('<IMG_CONTEXT>')
        for s in data_batch['data_samples'][:self.num_samples]:
            ids, labels = model.encode_sample(s, int(s.get('num_tiles', 0)), False)
            text = tok.decode(ids).replace('<IMG_CONTEXT>' * ids.count(ctx), f'<IMG_CONTEXT> x {ids.count(ctx)}')
            learned = tok.decode([i for i, lb in zip(ids, labels) if lb != -100])
            targets = {k: len(getattr(s, k)) if k == 'gt_instances' else tuple(getattr(s, k).shape)
                       for k in ('gt_instances', 'gt_sem_seg', 'gt_image') if k in s}
            runner.logger.info(f'training sample ({s.get("task")}, {len(ids)} tokens): {text!r}\n'
                               f'  learned: {learned!r}\n  targets: {targets}')


@HOOKS.register_module()
class ThroughputHook(Hook):
    """Log training throughput: ``samples_per_s`` and ``tokens_per_s`` (LLM tokens incl. image tokens
    and query slots), averaged by the log processor's window like the other scalars."""
    priority = 'LOW'

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        import time
        self._t0 = time.perf_counter()
        samples = (data_batch or {}).get('data_samples') or []
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        self._n = len(samples)
        self._tokens = 0
        for s in samples:  # tokenised in the workers; the model's encoding otherwise
            if 'token_ids' in s:
                self._tokens += len(s.token_ids)
            elif hasattr(model, 'encode_sample'):
                self._tokens += len(model.encode_sample(s, int(s.get('num_tiles', 0)), False)[0])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        import time
        dt = max(time.perf_counter() - self._t0, 1e-9)
        runner.message_hub.update_scalar('train/samples_per_s', self._n / dt)
        runner.message_hub.update_scalar('train/tokens_per_s', self._tokens / dt)


def packers(dataset) -> list:
    """The ``PackVisionLLMInputs`` of a dataset's pipelines, through mixtures, concatenations and streams."""
    found = []
    for child in getattr(dataset, 'datasets', None) or []:  # MixtureDataset, ConcatDataset, StreamingMixture
        found += packers(child)
    for attr in ('dataset', 'source'):  # wrappers (RepeatDataset ...), StreamingDataset
        if getattr(dataset, attr, None) is not None:
            found += packers(getattr(dataset, attr))
    for t in getattr(getattr(dataset, 'pipeline', None), 'transforms', None) or []:
        if type(t).__name__ == 'PackVisionLLMInputs':
            found.append(t)
    return found


@HOOKS.register_module()
class TokenizeInWorkersHook(Hook):
    """Chat template, tokenisation and query-slot expansion of training samples run in the dataloader
    workers: before training, every ``PackVisionLLMInputs`` of the training data gets the model's
    ``conversation_encoder()`` (the workers start afterwards and inherit it). ``tools/train.py`` adds this
    hook for every model that has one."""
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if not hasattr(model, 'conversation_encoder'):
            return
        encoder = model.conversation_encoder()
        found = packers(runner.train_dataloader.dataset)
        for p in found:
            p.encoder = encoder
        runner.logger.info(f'tokenising training samples in the dataloader workers (pipelines: {len(found)})')
