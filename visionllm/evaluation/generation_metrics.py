"""Offline metrics of generation and editing: denoising loss, colour faithfulness, PSNR / SSIM."""
from typing import Dict, Sequence

import cv2
import numpy as np
from mmengine.evaluator import BaseMetric

from visionllm.datasets.synthetic.vocabulary import COLOURS
from visionllm.registry import METRICS


def colour_present(image: np.ndarray, colour: str, max_dist: float = 70.0, min_area_frac: float = 0.01) -> bool:
    """Whether an RGB uint8 image [H, W, 3] has a connected blob close to the vocabulary colour."""
    dist = np.linalg.norm(image.astype(np.float32) - np.asarray(COLOURS[colour], np.float32), axis=-1)
    n, _, stats, _ = cv2.connectedComponentsWithStats((dist < max_dist).astype(np.uint8))
    areas = stats[1:, cv2.CC_STAT_AREA] if n > 1 else np.zeros(0)
    return bool(len(areas)) and areas.max() >= min_area_frac * image.shape[0] * image.shape[1]


def _img(t) -> np.ndarray:
    return t.cpu().numpy().transpose(1, 2, 0)


@METRICS.register_module()
class GenerationMetric(BaseMetric):
    """For ``gen`` samples: mean validation denoising loss (fixed seed) and colour faithfulness: the
    fraction of prompted objects (``objects``, 'colour shape' names of the embedded vocabulary) whose
    colour appears as a blob in the generated image, and the fraction of images with all of them."""
    default_prefix = 'gen'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'gen' or 'pred_image' not in s:
                continue
            img = _img(s['pred_image'])
            found = [colour_present(img, o.split(' ')[0]) for o in s.get('objects') or [] if o.split(' ')[0] in COLOURS]
            self.results.append((s.get('val_loss_noise', float('nan')), found))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        losses = [r[0] for r in results if r[0] == r[0]]
        objs = [f for r in results for f in r[1]]
        return dict(val_loss_noise=float(np.mean(losses)) if losses else float('nan'),
                    colour_faithfulness=float(np.mean(objs)) if objs else float('nan'),
                    all_objects=float(np.mean([all(r[1]) for r in results if r[1]])) if objs else float('nan'))


@METRICS.register_module()
class EditMetric(BaseMetric):
    """For ``edit`` samples: PSNR and SSIM of the edited image against the target, denoising loss."""
    default_prefix = 'edit'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        from skimage.metrics import peak_signal_noise_ratio, structural_similarity
        for s in data_samples:
            if s.get('task') != 'edit' or 'pred_image' not in s or 'gt_image' not in s:
                continue
            pred, gt = _img(s['pred_image']), _img(s['gt_image'])
            if gt.shape != pred.shape:
                gt = cv2.resize(gt, pred.shape[1::-1], interpolation=cv2.INTER_AREA)
            self.results.append((peak_signal_noise_ratio(gt, pred, data_range=255),
                                 structural_similarity(gt, pred, channel_axis=-1, data_range=255),
                                 s.get('val_loss_noise', float('nan'))))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        r = np.asarray(results, np.float64)
        return dict(psnr=float(r[:, 0].mean()), ssim=float(r[:, 1].mean()), val_loss_noise=float(np.nanmean(r[:, 2])))
