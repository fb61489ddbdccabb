"""The order in which a generalist runs its decoders (a decoder after those whose predictions it reads)."""
from typing import Dict, List, Tuple

from visionllm.utils.errors import ConfigError


def dependency_order(requires: Dict[str, Tuple[str, ...]]) -> List[str]:
    """Families ordered so that each comes after the families it requires (config order otherwise);
    ConfigError for a missing requirement or a cycle."""
    order: List[str] = []

    def visit(family: str, path: Tuple[str, ...]) -> None:
        if family in order:
            return
        if family in path:
            raise ConfigError(f'decoders require each other in a cycle: {" -> ".join(path + (family, ))}')
        for need in requires[family]:
            if need not in requires:
                raise ConfigError(f'decoder {family!r} reads the predictions of a {need!r} decoder, which the '
                                  f'model does not have (decoders: {sorted(requires)})')
            visit(need, path + (family, ))
        order.append(family)

    for family in requires:
        visit(family, ())
    return order
