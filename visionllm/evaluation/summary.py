"""One readable block comparing the free inference path with the prompted one."""
from typing import Dict, Optional


def _fmt(metrics: Dict[str, float], key: str) -> str:
    v = metrics.get(key)
    return '-' if v is None else f'{float(v):.3f}'


def free_path_summary(metrics: Dict[str, float]) -> Optional[str]:
    """Routing-token accuracy beside name accuracy, and prompted beside free box mAP (seen / unseen
    names), from the metric keys of ``RoutingAccuracy`` (``routing/``) and ``OVCocoMetric`` (``det/``,
    ``det_free/``). None when the run had no free-path samples."""
    if not metrics or 'routing/token_accuracy' not in metrics:
        return None
    m = metrics
    lines = ['free path (the LLM writes the answer) beside the prompted path:',
             f'  routing tokens: token accuracy {_fmt(m, "routing/token_accuracy")}, '
             f'groups exactly right {_fmt(m, "routing/sample_accuracy")}',
             f'  names before the tokens: all requested names {_fmt(m, "routing/name_accuracy")}, '
             f'precision {_fmt(m, "routing/name_precision")}, recall {_fmt(m, "routing/name_recall")}',
             f'  names against the objects in the image: precision {_fmt(m, "routing/present_precision")}, '
             f'recall {_fmt(m, "routing/present_recall")}']
    for tag, prefix in (('prompted', 'det'), ('free', 'det_free')):
        if f'{prefix}/bbox_mAP' in m:
            lines.append(f'  box mAP {tag:8s} {_fmt(m, prefix + "/bbox_mAP")} (seen names '
                         f'{_fmt(m, prefix + "/bbox_seen_mAP")}, unseen {_fmt(m, prefix + "/bbox_unseen_mAP")})')
    return '\n'.join(lines)
