"""Text metrics: VQA exact-match accuracy and caption object F1."""
import re
from collections import defaultdict
from typing import Dict, Sequence

from mmengine.evaluator import BaseMetric

from visionllm.datasets.synthetic.text import parse_caption
from visionllm.registry import METRICS


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and articles, collapse spaces."""
    text = re.sub(r'[^\w\s]', ' ', text.lower())
    return ' '.join(w for w in text.split() if w not in ('a', 'an', 'the'))


def _get(sample, key, default=None):
    if isinstance(sample, dict):
        return sample.get(key, sample.get('metainfo', {}).get(key, default))
    return sample.get(key, default)


@METRICS.register_module()
class VQAAccuracy(BaseMetric):
    """Exact match of normalized answers, overall and per ``question_type`` (samples of task vqa)."""
    default_prefix = 'vqa'

    def __init__(self, tasks: Sequence[str] = ('vqa', ), **kwargs):
        super().__init__(**kwargs)
        self.tasks = tuple(tasks)

    def process(self, data_batch, data_samples: Sequence) -> None:
        for s in data_samples:
            if _get(s, 'task') in self.tasks and _get(s, 'gt_answer') is not None:
                ok = normalize_answer(_get(s, 'pred_text', '')) == normalize_answer(_get(s, 'gt_answer'))
                self.results.append((_get(s, 'question_type') or 'all', ok))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        by_type = defaultdict(list)
        for qtype, ok in results:
            by_type[qtype].append(ok)
        out = {'accuracy': sum(ok for _, ok in results) / len(results)}
        out.update({f'{t}_accuracy': sum(v) / len(v) for t, v in sorted(by_type.items())})
        return out


@METRICS.register_module()
class CaptionObjectF1(BaseMetric):
    """F1 of the (name, count) objects a caption mentions vs the reference (synthetic captions)."""
    default_prefix = 'caption'

    def process(self, data_batch, data_samples: Sequence) -> None:
        for s in data_samples:
            if _get(s, 'task') == 'caption' and _get(s, 'gt_answer') is not None:
                text, ref = _get(s, 'pred_text', ''), _get(s, 'gt_answer')
                pred, gt = parse_caption(text), parse_caption(ref)
                tp = sum((pred & gt).values())
                exact = normalize_answer(text) == normalize_answer(ref)
                self.results.append((tp, sum(pred.values()), sum(gt.values()), exact))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        tp, np_, ng = (sum(r[i] for r in results) for i in range(3))
        p, r = tp / max(np_, 1), tp / max(ng, 1)
        return dict(object_precision=p, object_recall=r, object_f1=2 * p * r / max(p + r, 1e-9),
                    exact_match=sum(r[3] for r in results) / len(results))


__all__ = ['VQAAccuracy', 'CaptionObjectF1', 'normalize_answer']
