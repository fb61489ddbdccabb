"""Benchmarks that print numbers (ratios measured in one run).

  step     CONFIG [--device cuda --bf16]  train-step time split: MLLM (+LM loss), super-link, decoders,
                                       total; FLOPs per step, achieved TFLOP/s and model FLOPs utilisation
  latency  CONFIG [--weights CKPT]     prompted vs free detection latency; batch 8 vs batch 1 throughput
  compare  CFG_A CKPT_A CFG_B CKPT_B   evaluate two checkpoints on their configs' test split; every AP / mIoU
                                       (all, seen and unseen names), answer accuracy (VQA per question type,
                                       region recognition) and caption F1 of A and B and the ratio A/B
  ablate   [CONFIG] [--iters N]        train + test (test split) the detection generalist with class embeddings
                                       from the query-slot states only (group / causal slot attention), the name
                                       term only, and both: box mAP side by side
  memory   CONFIG [--weights CKPT]     detection inference on 1000 px and 6000 px images (one fresh process
                                       each): peak resident memory, its ratio, and latency per image
  params   CONFIG                      build on the meta device: parameters per part, memory estimates
  sample   CONFIG [--weights CKPT]     generation / editing sampling time per image (batch 1 and 8)
  data     CONFIG SHARDED_CONFIG SHARDS  training-data loading, map-style vs streamed from shards: samples/s,
                                       resident memory (main + workers) at the start, end and peak of a pass
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('step')
    s.add_argument('config')
    s.add_argument('--iters', type=int, default=5)
    s.add_argument('--device', default='cpu', help='cpu or cuda')
    s.add_argument('--bf16', action='store_true', help='bf16 autocast (mixed precision)')
    s.add_argument('--peak-tflops', type=float, help='device peak for MFU (default: known GPUs by name)')
    s = sub.add_parser('latency')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--num-classes', type=int, default=30)
    s.add_argument('--device', default='cpu', help='cpu or cuda')
    for name in ('step', 'latency'):
        s = sub.choices[name]
        s.add_argument('--cut-depth', action='store_true',
                       help='one layer per stack (visionllm.apis.cut_depth): full-size widths on a CPU')
        s.add_argument('--cfg-options', nargs='+', default=[], help='key=value config overrides')
    s = sub.add_parser('compare')
    for a in ('config_a', 'ckpt_a', 'config_b', 'ckpt_b'):
        s.add_argument(a)
    s = sub.add_parser('ablate')
    s.add_argument('config', nargs='?', default='configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py')
    s.add_argument('--iters', type=int, help='training iterations (default: the config schedule)')
    s.add_argument('--work-dir', default='work_dirs/benchmark_ablate')
    s.add_argument('--only', type=int, nargs='+', help='run only these variants (0-based)')
    s.add_argument('--cfg-options', nargs='+', default=[], help='extra key=value options for every variant')
    s = sub.add_parser('regions', help='latency of the visual-prompt tasks next to detection')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--data-root', default='data/synthetic')
    s.add_argument('--images', type=int, default=20)
    s = sub.add_parser('memory')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--sizes', type=int, nargs='+', default=[1000, 6000])
    s.add_argument('--texts', default='red circle . blue square . green star . yellow cross')
    s = sub.add_parser('infer-once')
    for a in ('config', 'image'):
        s.add_argument(a)
    s.add_argument('--weights')
    s.add_argument('--texts', default='red circle')
    s.add_argument('--out-dir')
    s = sub.add_parser('params')
    s.add_argument('config')
    s = sub.add_parser('data')
    s.add_argument('config', help='map-style config')
    s.add_argument('sharded_config', help='its streaming variant')
    s.add_argument('shards', help='the folder tools/convert_to_shards.py wrote')
    s.add_argument('--batches', type=int, default=300)
    s.add_argument('--workers', type=int, default=2)
    s.add_argument('--resume-items', type=int, default=4000,
                   help='also time resuming a stream after this many items (0: skip)')
    s = sub.add_parser('sample')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--steps', type=int, help='sampling steps (default: the decoder test_cfg)')
    args = p.parse_args()
    from tools.benchmarks import inference, resources, training
    dict(step=training.bench_step, compare=training.bench_compare, ablate=training.bench_ablate,
         latency=inference.bench_latency, sample=inference.bench_sample, memory=inference.bench_memory,
         regions=inference.bench_regions, params=resources.bench_params, data=resources.bench_data,
         **{'infer-once': inference.bench_infer_once})[args.cmd](args)


if __name__ == '__main__':
    main()
