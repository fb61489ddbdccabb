"""Evaluate a visionllm checkpoint with mmengine's Runner (mmdet-style CLI)."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description='Test (and eval) a visionllm model')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file (or a DeepSpeed checkpoint directory)')
    p.add_argument('--work-dir', help='the dir to save logs and evaluation results')
    p.add_argument('--out', help='dump predictions to a pickle file (.pkl)')
    p.add_argument('--json-out', help='write the metrics to this JSON file')
    p.add_argument('--show-dir', help='draw predictions into this folder (relative to the run dir)')
    p.add_argument('--score-thr', type=float, default=0.3, help='score threshold of drawn instances')
    p.add_argument('--cfg-options', nargs='+', default=[], help='override settings, key=value pairs')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    from mmengine.config import DictAction

    from visionllm.apis.runner_utils import build_runner, build_runner_cfg, friendly_errors
    opts = {}
    if args.cfg_options:
        ns = argparse.Namespace()
        DictAction(['--cfg-options'], 'cfg_options')(None, ns, args.cfg_options)
        opts = ns.cfg_options
    with friendly_errors(args.config):
        if not osp.exists(args.checkpoint):
            from visionllm.utils.errors import ConfigError
            raise ConfigError(f'checkpoint {args.checkpoint!r} not found')
        cfg = build_runner_cfg(args.config, opts, work_dir=args.work_dir, launcher=args.launcher,
                               load_from=args.checkpoint)
        from visionllm.apis.checkpoints import loadable_checkpoint
        cfg.load_from = loadable_checkpoint(args.checkpoint, cfg.work_dir)  # a DeepSpeed directory: consolidated
        if args.show_dir:
            cfg.default_hooks.visualization = dict(type='VisionLLMVisualizationHook', draw=True,
                                                   test_out_dir=args.show_dir, score_thr=args.score_thr)
        runner = build_runner(cfg)
        if args.out:
            from mmengine.evaluator import DumpResults
            if not args.out.endswith(('.pkl', '.pickle')):
                from visionllm.utils.errors import ConfigError
                raise ConfigError(f'--out must end with .pkl, got {args.out!r}')
            runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
        metrics = runner.test()
    from visionllm.evaluation import free_path_summary
    summary = free_path_summary(metrics)
    if summary:
        print(summary)
    if args.json_out:
        import json
        os.makedirs(osp.dirname(osp.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, 'w') as f:
            # numpy / torch scalars (mmseg's metrics give float32) as plain numbers
            json.dump(metrics, f, indent=1, default=lambda v: v.item() if hasattr(v, 'item') else str(v))


if __name__ == '__main__':
    main()
