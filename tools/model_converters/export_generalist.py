"""Export a trained checkpoint to transformers / diffusers directories + decoder weights.

Example: python tools/model_converters/export_generalist.py CONFIG CKPT OUT_DIR
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out_dir')
    a = p.parse_args()
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from visionllm.apis.checkpoints import load_weights
    from visionllm.apis.export import export_generalist
    from visionllm.apis.runner_utils import friendly_errors
    from visionllm.registry import MODELS
    with friendly_errors(a.config):
        cfg = Config.fromfile(a.config)
        init_default_scope('visionllm')
        model = MODELS.build(cfg.model)
        load_weights(model, a.checkpoint)  # a .pth file or a DeepSpeed checkpoint directory
        print(f'exported to {a.out_dir}; config {export_generalist(model, cfg, a.out_dir)}')


if __name__ == '__main__':
    main()
