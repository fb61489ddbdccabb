"""The task registry: the built-in specs say what the code did before, and a task registered by a user is
picked up by the sampler, the packer and the routing metric without editing them."""
import numpy as np
import pytest
import torch

from visionllm.registry import TASKS
from visionllm.structures.tasks import TaskSpec, routing_tokens, task_families, task_spec, task_specs


def test_builtin_tasks():
    from visionllm.apis.inferencer import VisionLLMInferencer
    from visionllm.registry import FUNCTIONS, METRICS
    from visionllm.visualization import VisionLLMVisualizer  # noqa: F401 (registers the drawing functions)
    specs = task_specs()
    assert set(specs) == {'caption', 'vqa', 'chat', 'det', 'grounding', 'semseg', 'pose', 'gen', 'edit',
                          'region-caption', 'interactive-seg', 'detect-by-example'}
    assert set(routing_tokens()) == {'[DET]', '[SEG]', '[GRD]', '[POSE]', '[GEN]', '[EDIT]'}
    assert task_families() == {'caption': 'text', 'vqa': 'text', 'chat': 'text', 'det': 'det', 'grounding': 'det',
                               'semseg': 'seg', 'pose': 'pose', 'gen': 'gen', 'edit': 'edit',
                               'region-caption': 'text', 'interactive-seg': 'det', 'detect-by-example': 'det'}
    for name, spec in specs.items():
        for metric in spec.metrics:
            assert METRICS.get(metric) is not None, (name, metric)
        assert spec.infer is None or callable(getattr(VisionLLMInferencer, spec.infer, None)), (name, spec.infer)
        for fn in (spec.draw, spec.postprocess):
            assert fn is None or FUNCTIONS.get(fn) is not None, (name, fn)
    with pytest.raises(KeyError, match="unknown task 'depth'"):
        task_spec('depth')
    from visionllm.registry import INFERENCERS
    assert INFERENCERS.get('VisionLLMInferencer') is VisionLLMInferencer


@pytest.fixture
def depth_task():
    @TASKS.register_module()
    class DepthTask(TaskSpec):
        name, route, family = 'depth', '[DEPTH]', 'depth'
        datasets = ('DepthDataset', )
        prompt = 'Please estimate the depth of {names}.'
        meta_keys = ('depth_scale', )
        gt_pixel_fields = {'gt_depth_map': ('gt_depth', 'float32')}

    try:
        yield DepthTask
    finally:
        TASKS.module_dict.pop('DepthTask')


def test_a_registered_task_reaches_sampler_packer_and_routing_metric(depth_task):
    from torch.utils.data import Dataset

    from visionllm.datasets.samplers import TaskGroupedBatchSampler, sample_task
    from visionllm.datasets.transforms.formatting import PackVisionLLMInputs
    from visionllm.evaluation.routing_metric import RoutingAccuracy

    class DepthDataset(Dataset):  # a dataset type named in the spec, its samples not saying their task
        def __len__(self):
            return 4

    assert sample_task(DepthDataset(), 0) == 'depth'

    class SegLikeDataset(Dataset):  # another task's dataset type, prompted for depth: says so in its metainfo
        metainfo = dict(classes=('background', 'object'), task='depth')

        def __len__(self):
            return 4

    assert sample_task(SegLikeDataset(), 0) == 'depth'
    sampler = TaskGroupedBatchSampler(list(range(4)), batch_size=2)
    assert sampler.families['depth'] == 'depth'
    depth = np.random.rand(12, 16).astype(np.float32)
    packed = PackVisionLLMInputs(tile_size=16).transform(dict(
        img=np.zeros((12, 16, 3), np.uint8), img_shape=(12, 16), ori_shape=(12, 16), task='depth',
        depth_scale=10.0, gt_depth_map=depth))
    sample = packed['data_samples']
    assert sample.metainfo['task'] == 'depth' and sample.metainfo['depth_scale'] == 10.0
    assert sample.gt_depth.data.dtype == torch.float32 and torch.equal(sample.gt_depth.data[0], torch.from_numpy(depth))
    assert '[DEPTH]' in RoutingAccuracy().tokens
