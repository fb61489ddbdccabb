"""Options of one prediction call: given with the call, never written into the model."""
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional


@dataclass(frozen=True)
class PredictOptions:
    """What one ``VisionLLM.predict`` call may change; unset fields keep the model's ``test_cfg``.

    Args:
        max_new_tokens: cap of free generation for this call (the task-dependent ``test_cfg`` value otherwise).
        generation: :class:`GenerationOptions` kwargs, over ``test_cfg['generation']``.
        streamer: ``streamer(batch_index, token_id)`` called as free-generation tokens come.
        decoders: per decoder family, ``test_cfg`` keys of that decoder for this call
            (e.g. ``{'det': {'score_thr': 0.3}, 'gen': {'seed': 1}}``).
    """
    max_new_tokens: Optional[int] = None
    generation: Dict = field(default_factory=dict)
    streamer: Optional[Callable[[int, int], None]] = None
    decoders: Dict[str, Dict] = field(default_factory=dict)
