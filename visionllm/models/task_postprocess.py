"""The task specs' ``postprocess`` functions run on predicted samples."""
from typing import List

from visionllm.registry import FUNCTIONS
from visionllm.structures import VisionLLMDataSample
from visionllm.structures.tasks import task_specs
from visionllm.utils.errors import ConfigError


def task_postprocess(samples: List[VisionLLMDataSample]) -> None:
    """Each sample's task spec ``postprocess`` function (``TaskSpec.postprocess``, a name in ``FUNCTIONS``)."""
    specs = task_specs()
    for s in samples:
        spec = specs.get(s.metainfo.get('task'))
        if spec is not None and spec.postprocess:
            fn = FUNCTIONS.get(spec.postprocess)
            if fn is None:
                raise ConfigError(f'task {spec.name!r}: postprocess function {spec.postprocess!r} is not '
                                  'registered in FUNCTIONS')
            fn(s)
