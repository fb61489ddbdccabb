"""Routing accuracy of the free inference path."""
import re
from typing import Dict, List, Sequence, Tuple

from mmengine.evaluator import BaseMetric

from visionllm.registry import METRICS

ROUTE_RE = re.compile(r'([^:,;\n\[\]]*)(\[[A-Z]+\])')


def parse_routes(text: str, tokens: Sequence[str]) -> List[Tuple[str, str]]:
    """(name, routing token) pairs of an answer text, e.g. 'a: red circle[DET], b[DET].'"""
    return [(m.group(1).strip(), m.group(2)) for m in ROUTE_RE.finditer(text) if m.group(2) in tokens]


@METRICS.register_module()
class RoutingAccuracy(BaseMetric):
    """Did the LLM emit the expected routing tokens, each after the expected name?

    Reads samples with ``gt_groups`` (expected (name, token) pairs) and a generated ``pred_text``.
    Reports ``sample_accuracy`` (exactly the expected groups, in order), ``token_accuracy`` (the
    right routing token types and count), group ``precision`` / ``recall`` of (name, token) pairs.
    """
    default_prefix = 'routing'

    def __init__(self, tokens: Sequence[str] = ('[DET]', '[SEG]', '[GRD]', '[POSE]', '[GEN]', '[EDIT]'), **kw):
        super().__init__(**kw)
        self.tokens = tuple(tokens)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('gt_groups') is None or 'pred_text' not in s or s.get('answer_mode') != 'free':
                continue
            gt = [tuple(g) for g in s['gt_groups']]
            pred = parse_routes(s['pred_text'], self.tokens)
            tp = len(set(gt) & set(pred))
            self.results.append((pred == gt, [t for _, t in pred] == [t for _, t in gt], tp, len(pred), len(gt)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        n = len(results)
        tp, np_, ng = (sum(r[i] for r in results) for i in (2, 3, 4))
        return dict(sample_accuracy=sum(r[0] for r in results) / n, token_accuracy=sum(r[1] for r in results) / n,
                    precision=tp / max(np_, 1), recall=tp / max(ng, 1))
