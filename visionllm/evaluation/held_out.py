"""The held-out (unseen) names a metric reports apart: given as names, or read from a JSON file with a
``held_out`` list (such as the embedded data's ``meta.json``). Read here only."""
import json
from typing import Optional, Sequence, Set

from visionllm.utils.errors import ConfigError


def held_out_names(names: Sequence[str] = (), file: Optional[str] = None) -> Set[str]:
    """``names`` plus the ``held_out`` list of the JSON ``file`` (None: none). A file that cannot be read, or
    whose ``held_out`` is not a list of strings, is a :class:`ConfigError` naming it."""
    out = set(names)
    if not file:
        return out
    try:
        with open(file) as f:
            listed = json.load(f).get('held_out', [])
    except (OSError, ValueError, AttributeError) as e:
        raise ConfigError(f'{file}: cannot read the held-out names (a JSON object with a "held_out" list of '
                          f'names): {e}') from None
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise ConfigError(f'{file}: "held_out" must be a list of names, got {listed!r:.80}')
    return out | set(listed)
