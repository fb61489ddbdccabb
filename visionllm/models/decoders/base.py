"""The decoder interface every specialist implements."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from torch import Tensor

from visionllm.structures import TaskConditions, VisionLLMDataSample
from visionllm.utils.errors import PromptError


class BaseTaskDecoder(BaseModule, metaclass=ABCMeta):
    """A specialist decoder conditioned on super-link query states.

    A decoder never sees the tokenizer or the LLM: it receives pixel inputs (``decoder_inputs``:
    ``{'images': [B, 3, H, W]}``) and :class:`TaskConditions` whose ``batch_idx`` index the
    ``data_samples`` it is given.

    ``requires``: the decoder families whose predictions this one reads (they run before it; the
    generalist checks that they exist).

    Args:
        condition_dims: width D of the LLM hidden states (set by the generalist).
        routing_tokens: routing tokens this decoder serves (must be its super-link family's).
        num_queries: queries per group it expects.
    """
    requires: Tuple[str, ...] = ()

    def __init__(self, condition_dims: int, routing_tokens: Sequence[str], num_queries: int, init_cfg=None):
        super().__init__(init_cfg)
        self.condition_dims = condition_dims
        self.routing_tokens = list(routing_tokens)
        self.num_queries = num_queries

    @abstractmethod
    def loss(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
             data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        """Losses (names without the family prefix; the generalist adds it)."""

    @abstractmethod
    def predict(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
                data_samples: List[VisionLLMDataSample], test_cfg: Optional[dict] = None
                ) -> List[VisionLLMDataSample]:
        """Fill ``pred_*`` fields of the data samples and return them. ``test_cfg``: this call's options
        (:meth:`call_test_cfg`)."""

    def call_test_cfg(self, overrides: Optional[dict] = None) -> dict:
        """The decoder's ``test_cfg`` with one call's ``overrides`` (None values ignored). The decoder is never
        changed: concurrent calls with different options do not see each other's."""
        base = dict(getattr(self, 'test_cfg', None) or {})
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(base))
        if unknown:
            raise PromptError(f'{type(self).__name__} has no test option {", ".join(unknown)}; it takes: '
                              f'{", ".join(sorted(base)) or "none"}')
        return {**base, **overrides}
