"""Registries of visionllm: children of mmengine's roots, scope ``visionllm``.

mmdet / mmseg / mmpose components are reached with a scope prefix in configs
(``type='mmdet.ResNet'``); our own components need none.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

SCOPE = 'visionllm'

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, scope=SCOPE)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['visionllm.engine'], scope=SCOPE)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['visionllm.engine', 'visionllm.apis'], scope=SCOPE)
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['visionllm.datasets'], scope=SCOPE)
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['visionllm.datasets'], scope=SCOPE)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['visionllm.datasets.transforms'], scope=SCOPE)
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['visionllm.models'], scope=SCOPE)
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['visionllm.models'], scope=SCOPE)
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['visionllm.models'], scope=SCOPE)
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['visionllm.engine'], scope=SCOPE)
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['visionllm.engine'], scope=SCOPE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['visionllm.engine'], scope=SCOPE)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['visionllm.engine'], scope=SCOPE)
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['visionllm.evaluation'], scope=SCOPE)
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['visionllm.evaluation'], scope=SCOPE)
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['visionllm.visualization'], scope=SCOPE)
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=['visionllm.visualization'], scope=SCOPE)
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMENGINE_LOG_PROCESSORS, locations=['visionllm.engine'], scope=SCOPE)
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS, locations=['visionllm.apis'], scope=SCOPE)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS,
                     locations=['visionllm.datasets', 'visionllm.models', 'visionllm.visualization'], scope=SCOPE)
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, scope=SCOPE)
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, locations=['visionllm.engine'], scope=SCOPE)
TASKS = Registry('task', locations=['visionllm.structures.tasks'], scope=SCOPE)  # TaskSpec subclasses
