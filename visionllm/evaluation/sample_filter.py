"""Which evaluated samples a metric reads: by answer mode and request phrasing."""
from typing import Optional


def selected(sample: dict, answer_mode: Optional[str] = None, phrasing: Optional[str] = None) -> bool:
    """True when ``sample`` has this answer mode (``'prompted'`` when unset) and request phrasing
    (``'default'`` when unset); None accepts any."""
    return ((answer_mode is None or sample.get('answer_mode', 'prompted') == answer_mode)
            and (phrasing is None or sample.get('phrasing', 'default') == phrasing))
