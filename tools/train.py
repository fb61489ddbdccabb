"""Train a visionllm config with mmengine's Runner (mmdet-style CLI)."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a source checkout


def parse_args():
    p = argparse.ArgumentParser(description='Train a visionllm model')
    p.add_argument('config', help='train config file path')
    p.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    p.add_argument('--resume', nargs='?', type=str, const='auto',
                   help='resume from the given checkpoint, or from the latest one in work-dir if no path')
    p.add_argument('--amp', action='store_true', help='automatic mixed precision (bf16)')
    p.add_argument('--deepspeed', help='DeepSpeed ZeRO through FlexibleRunner: zero2, zero3 or a JSON file '
                   '(its "auto" fields are filled from the config)')
    p.add_argument('--fsdp', action='store_true', help='FSDP through FlexibleRunner')
    p.add_argument('--cfg-options', nargs='+', action=DictActionLazy, default={},
                   help='override config settings, e.g. train_cfg.max_iters=10 (key=value pairs)')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


class DictActionLazy(argparse.Action):
    """mmengine's DictAction, imported only when options are given (keeps --help fast)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction
        DictAction(self.option_strings, self.dest)(parser, namespace, values, option_string)


def main():
    args = parse_args()
    from visionllm.apis.runner_utils import build_runner, build_runner_cfg, friendly_errors
    with friendly_errors(args.config):
        cfg = build_runner_cfg(args.config, args.cfg_options, work_dir=args.work_dir, launcher=args.launcher,
                               amp=args.amp, resume=args.resume, deepspeed=args.deepspeed, fsdp=args.fsdp)
        build_runner(cfg).train()


if __name__ == '__main__':
    main()
