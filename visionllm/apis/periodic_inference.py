"""A training hook that runs the inferencer on fixed prompts (the apis layer: it uses the inferencer)."""
import json
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from visionllm.datasets.transforms.loading import write_rgb
from visionllm.registry import HOOKS

from .inferencer import VisionLLMInferencer


@HOOKS.register_module()
class PeriodicInferenceHook(Hook):
    """Every ``interval`` training iterations, run fixed prompts on fixed images and save the answers
    (``{log_dir}/periodic_inference/iter_{n}.json``) and pictures (``..._{k}.png``).

    Args:
        prompts: list of ``dict(image=path, task='det'|'chat', texts='a . b' | question=str)``.
    """

    def __init__(self, prompts: list, interval: int = 500):
        self.prompts, self.interval = prompts, interval

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.prompts or not self.every_n_train_iters(runner, self.interval) or not is_main_process():
            return  # the main process alone, on the unwrapped model (no collectives)
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        inf = VisionLLMInferencer.from_model(model, runner.cfg)
        out_dir = osp.join(runner.log_dir, 'periodic_inference')
        os.makedirs(out_dir, exist_ok=True)
        answers = []
        was_training = model.training
        model.eval()
        try:
            for k, p in enumerate(self.prompts):
                if p.get('task', 'det') == 'chat':
                    answers.append(dict(p, answer=inf.chat(p['image'], p['question'])))
                else:
                    res = inf(p['image'], texts=p['texts'], out_dir=None, return_vis=True)
                    answers.append(dict(p, predictions=res['predictions'][0]))
                    write_rgb(osp.join(out_dir, f'iter_{runner.iter + 1}_{k}.png'), res['visualization'][0])
        finally:
            model.train(was_training)
        with open(osp.join(out_dir, f'iter_{runner.iter + 1}.json'), 'w') as f:
            json.dump(answers, f, indent=1)
        runner.logger.info(f'periodic inference on {len(self.prompts)} prompts written to {out_dir}')
