"""The task registry: one :class:`TaskSpec` per task declares what the layers above switch on.

A task is a subclass of ``TaskSpec`` registered in ``TASKS``; its class attributes are the declaration::

    @TASKS.register_module()
    class DepthTask(TaskSpec):
        name, route, family = 'depth', '[DEPTH]', 'depth'
        prompt = 'Please estimate the depth of {names}.'
        gt_pixel_fields = {'gt_depth_map': ('gt_depth', 'float32')}
        pred_fields = ('pred_depth', )

Readers: the task-grouped sampler (task -> decoder family, dataset type -> task), ``PackVisionLLMInputs``
(metainfo keys, dense ground-truth fields), ``BuildTaskConversation`` and the inferencer's ``run_task`` (one
conversation builder, ``visionllm.datasets.prompts.task_conversation``), the routing metric (routing
tokens) and ``tools/infer.py --task`` (the inference entry). docs/adding_a_task.md walks through a new one.
"""
from types import MappingProxyType
from typing import Dict, Mapping, Optional, Tuple

from visionllm.registry import TASKS
from visionllm.utils.errors import ConfigError


class TaskSpec:
    """Declaration of one task (class attributes; see the module docstring).

    Attributes:
        name: the task name samples carry (``results['task']``).
        route: routing token the LLM writes before the task's query slots (None: a text answer).
        family: decoder family (key of ``VisionLLM.decoders``; ``'text'``: no decoder) - one family per batch.
        datasets: dataset types whose samples are this task when they do not say (``sample_task``).
        meta_keys: pipeline results copied into the data sample's metainfo.
        gt_pixel_fields: ``{results key: (data-sample field, dtype)}`` packed as ``PixelData`` [1, H, W].
        metrics: metric types (``METRICS``) that score the task.
        infer: the inferencer method that answers it (``tools/infer.py --task NAME``); ``'run_task'``, the
            generic entry, prompts with ``prompt`` and returns the ``pred_fields``.
        prompt: instruction template of the generic conversation (``BuildTaskConversation``, ``run_task``):
            ``{names}`` is replaced by the prompted names; the answer routes each name to ``route``.
        pred_fields: data-sample fields holding the task's predictions (written by its decoder).
        draw: a function in ``FUNCTIONS``, ``draw(visualizer, image RGB [H, W, 3], sample) -> image``, that
            ``VisionLLMVisualizer`` calls for the task's samples after its own drawing (tools/infer.py,
            tools/test.py --show-dir, the demo).
        postprocess: a function in ``FUNCTIONS``, ``postprocess(sample)``, that the generalist calls on the
            task's samples after its decoders (e.g. interactive segmentation rescores candidates by their
            agreement with the prompt).
    """
    name: str = ''
    route: Optional[str] = None
    family: str = 'text'
    datasets: Tuple[str, ...] = ()
    meta_keys: Tuple[str, ...] = ()
    gt_pixel_fields: Mapping[str, Tuple[str, str]] = MappingProxyType({})
    metrics: Tuple[str, ...] = ()
    infer: Optional[str] = 'run_task'
    prompt: Optional[str] = None
    pred_fields: Tuple[str, ...] = ()
    draw: Optional[str] = None
    postprocess: Optional[str] = None


def task_specs() -> Dict[str, type]:
    """``{name: spec}`` of every registered task (built-in and user ones); two specs with one name (e.g. a
    subclass of a built-in task that kept its ``name``) are an error."""
    specs: Dict[str, type] = {}
    for spec in TASKS.module_dict.values():
        if not spec.name:
            continue
        if spec.name in specs:
            raise ConfigError(f'tasks {specs[spec.name].__name__} and {spec.__name__} are both named {spec.name!r}')
        specs[spec.name] = spec
    return specs


def task_spec(name: str) -> type:
    """The spec of task ``name``; a clear error listing the registered ones otherwise."""
    specs = task_specs()
    if name not in specs:
        raise KeyError(f'unknown task {name!r}; registered tasks: {sorted(specs)}')
    return specs[name]


def task_families() -> Dict[str, str]:
    """``{task: decoder family}``."""
    return {name: spec.family for name, spec in task_specs().items()}


def dataset_tasks() -> Dict[str, str]:
    """``{dataset type: task}`` from the specs' ``datasets``."""
    return {ds: name for name, spec in task_specs().items() for ds in spec.datasets}


def routing_tokens() -> Tuple[str, ...]:
    """Every registered routing token, in registration order, once."""
    return tuple(dict.fromkeys(spec.route for spec in task_specs().values() if spec.route))


def task_meta_keys() -> Tuple[str, ...]:
    return tuple(dict.fromkeys(k for spec in task_specs().values() for k in spec.meta_keys))




# ---- built-in tasks --------------------------------------------------------------------------------------
@TASKS.register_module()
class CaptionTask(TaskSpec):
    name, metrics, infer = 'caption', ('CaptionObjectF1', ), 'chat'
    meta_keys = ('gt_answer', 'objects')


@TASKS.register_module()
class VQATask(TaskSpec):
    name, metrics, infer = 'vqa', ('VQAAccuracy', ), 'chat'
    meta_keys = ('gt_answer', 'question_type')


@TASKS.register_module()
class ChatTask(TaskSpec):
    name, infer = 'chat', 'chat'


@TASKS.register_module()
class DetectionTask(TaskSpec):
    name, route, family, infer = 'det', '[DET]', 'det', '__call__'
    datasets = ('CocoOVDDataset', )
    meta_keys = ('class_names', 'gt_groups', 'held_out', 'answer_mode')
    metrics = ('OVCocoMetric', 'RoutingAccuracy')


@TASKS.register_module()
class GroundingTask(TaskSpec):
    name, route, family, infer = 'grounding', '[GRD]', 'det', None
    datasets = ('ReferringDataset', )
    meta_keys = ('text', 'ref_bbox', 'gt_groups')
    metrics = ('GroundingAccuracy', )


@TASKS.register_module()
class SemSegTask(TaskSpec):
    name, route, family, infer = 'semseg', '[SEG]', 'seg', 'segment'
    datasets = ('SemSegDataset', )
    meta_keys = ('class_names', 'gt_groups', 'held_out', 'answer_mode')
    gt_pixel_fields = {'gt_seg_map': ('gt_sem_seg', 'int64')}
    metrics = ('OVIoUMetric', )


@TASKS.register_module()
class PoseTask(TaskSpec):
    name, route, family, infer = 'pose', '[POSE]', 'pose', 'pose'
    datasets = ('CocoKeypointDataset', )
    meta_keys = ('class_names', 'keypoint_names', 'skeleton', 'gt_groups', 'answer_mode')
    metrics = ('OVCocoKeypointMetric', )


@TASKS.register_module()
class GenerationTask(TaskSpec):
    name, route, family, infer = 'gen', '[GEN]', 'gen', 'generate'
    datasets = ('TextToImageDataset', )
    meta_keys = ('text', 'gt_img_path', 'gt_groups', 'answer_mode')
    metrics = ('GenerationMetric', )


@TASKS.register_module()
class EditingTask(TaskSpec):
    name, route, family, infer = 'edit', '[EDIT]', 'edit', 'edit'
    datasets = ('EditDataset', )
    meta_keys = ('instruction', 'gt_img_path', 'gt_groups', 'answer_mode')
    metrics = ('EditMetric', )


# ---- visual prompts (``<region>`` tokens; the model needs a region encoder) ---------------------------------
REGION_META_KEYS = ('region_names', 'region_kind', 'region_gt', 'class_names', 'gt_answer', 'held_out')


@TASKS.register_module()
class RegionCaptionTask(TaskSpec):
    """What is in a region: the answer names it (text)."""
    name, infer = 'region-caption', 'region_caption'
    meta_keys = REGION_META_KEYS
    metrics = ('RegionRecognitionAccuracy', )
    pred_fields = ('pred_text', )
    draw = 'draw_region_prompts'


@TASKS.register_module()
class InteractiveSegTask(TaskSpec):
    """The object a region (click, box, scribble, mask) points at: its mask, through the grounding route."""
    name, route, family, infer = 'interactive-seg', '[GRD]', 'det', 'interactive_segment'
    meta_keys = REGION_META_KEYS
    metrics = ('InteractiveSegMetric', )
    pred_fields = ('pred_instances', )
    draw = 'draw_region_prompts'
    postprocess = 'rescore_by_region'


@TASKS.register_module()
class DetectByExampleTask(TaskSpec):
    """Every object like the one in a region (the region is the class of a [DET] group), and their count."""
    name, route, family, infer = 'detect-by-example', '[DET]', 'det', 'detect_by_example'
    meta_keys = REGION_META_KEYS
    metrics = ('OVCocoMetric', 'CountingMAE')
    pred_fields = ('pred_instances', )
    draw = 'draw_region_prompts'
