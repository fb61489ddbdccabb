"""Routing and name accuracy of the free inference path."""
import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from mmengine.evaluator import BaseMetric

from visionllm.registry import METRICS
from visionllm.structures.tasks import routing_tokens
from visionllm.utils.names import unescape_name

from .sample_filter import selected

ROUTE_RE = re.compile(r'([^:,;\n\[\]]*)(\[[A-Z]+\])')


def parse_routes(text: str, tokens: Sequence[str]) -> List[Tuple[str, str]]:
    """(name, routing token) pairs of an answer text, e.g. 'a: red circle[DET], b[DET].'"""
    return [(unescape_name(m.group(1).strip()), m.group(2)) for m in ROUTE_RE.finditer(text) if m.group(2) in tokens]


def strip_routes(text: str, tokens: Sequence[str]) -> str:
    """The answer text without its routing tokens: 'results: red circle[DET].' -> 'results: red circle.'"""
    for t in tokens:
        text = text.replace(t, '')
    return re.sub(r'\s+([,.;:])', r'\1', text).strip()


def present_names(sample: dict) -> Optional[Set[str]]:
    """Names of the objects in the image (``class_names[gt label]``), or None without instance labels."""
    gt = sample.get('gt_instances')
    names = sample.get('class_names')
    if gt is None or 'labels' not in gt or names is None:
        return None
    return {names[int(i)] for i in gt['labels']}


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


@METRICS.register_module()
class RoutingAccuracy(BaseMetric):
    """Did the LLM emit the expected routing tokens, each after the expected name?

    Reads free-path samples with ``gt_groups`` (the expected (name, token) pairs) and a generated
    ``pred_text``. Routing tokens alone:

    - ``token_accuracy``: the right routing-token types, in order (names ignored);
    - ``sample_accuracy``: exactly the expected (name, token) groups, in order;
    - ``precision`` / ``recall``: of (name, token) pairs.

    Names written before the tokens (what the decoders are conditioned on):

    - ``name_accuracy``: the set of written names equals the set of requested names;
    - ``name_precision`` / ``name_recall``: written names against requested names;
    - ``present_precision`` / ``present_recall``: written names against the names of the objects in
      the image (samples with ground-truth instances only).

    With samples of several tasks, ``{task}/token_accuracy`` and ``{task}/name_recall`` are given per task too.

    Args:
        tokens: the routing tokens to read (default: every registered task's).
        phrasing: only samples whose request had this phrasing (``'default'``, ``'train'``, ``'held_out'``);
            None: all.
    """
    default_prefix = 'routing'

    def __init__(self, tokens: Optional[Sequence[str]] = None, phrasing: Optional[str] = None, **kw):
        super().__init__(**kw)
        self.tokens = tuple(tokens) if tokens is not None else routing_tokens()  # default: every registered task's
        self.phrasing = phrasing

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('gt_groups') is None or 'pred_text' not in s or not selected(s, 'free', self.phrasing):
                continue
            gt = [tuple(g) for g in s['gt_groups']]
            pred = parse_routes(s['pred_text'], self.tokens)
            gt_names, pred_names = {n for n, _ in gt}, {n for n, _ in pred}
            present = present_names(s)
            self.results.append(dict(
                task=s.get('task'), sample=pred == gt, token=[t for _, t in pred] == [t for _, t in gt],
                tp=len(set(gt) & set(pred)), n_pred=len(pred), n_gt=len(gt),
                names=pred_names == gt_names, name_tp=len(pred_names & gt_names), n_pred_names=len(pred_names),
                n_gt_names=len(gt_names), present_tp=None if present is None else len(pred_names & present),
                n_present=None if present is None else len(present)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            return {}
        n = len(results)

        def total(key: str, rows=results) -> int:
            return sum(r[key] for r in rows)

        out = dict(token_accuracy=total('token') / n, sample_accuracy=total('sample') / n,
                   precision=_ratio(total('tp'), total('n_pred')), recall=_ratio(total('tp'), total('n_gt')),
                   name_accuracy=total('names') / n,
                   name_precision=_ratio(total('name_tp'), total('n_pred_names')),
                   name_recall=_ratio(total('name_tp'), total('n_gt_names')))
        tasks = sorted({str(r.get('task')) for r in results})
        for task in tasks if len(tasks) > 1 else ():
            rows = [r for r in results if str(r.get('task')) == task]
            out[f'{task}/token_accuracy'] = total('token', rows) / len(rows)
            out[f'{task}/name_recall'] = _ratio(total('name_tp', rows), total('n_gt_names', rows))
        with_gt = [r for r in results if r['n_present'] is not None]
        if with_gt:
            out.update(present_precision=_ratio(total('present_tp', with_gt), total('n_pred_names', with_gt)),
                       present_recall=_ratio(total('present_tp', with_gt), total('n_present', with_gt)))
        return out
