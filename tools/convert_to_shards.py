"""Write a config's dataset split as webdataset tar shards (one folder per source) with a manifest.

Example:
  python tools/convert_to_shards.py configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py \
      data/shards/det-text --split train --shard-size 500
With --format parquet the shards are Parquet files written by Hugging Face datasets (HFStreamingDataset).
Each source of the split's dataset (the sources of a MixtureDataset / ConcatDataset, or the dataset itself)
becomes OUT/<k>_<DatasetType>/shard-NNNNNN.tar (shard files an earlier conversion left there are removed);
OUT/manifest.json lists sources, tasks, sample and shard
counts, the source dataset configs, and the weights of a mixture (what a streaming config needs).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('out_dir')
    p.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    p.add_argument('--shard-size', type=int, default=1000, help='samples per shard')
    p.add_argument('--format', default='webdataset', choices=['webdataset', 'parquet'],
                   help='tar shards (StreamingDataset) or Parquet files (HFStreamingDataset)')
    from mmengine.config import DictAction
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='key=value overrides of the config (a top-level variable such as data_root reaches the '
                   'datasets built from it, as in tools/train.py)')
    return p.parse_args()


def sources(ds_cfg: dict):
    """The leaf dataset configs of a (possibly nested) mixture / concat config, and the mixture's weights."""
    kind = ds_cfg.get('type')
    if kind in ('MixtureDataset', 'ConcatDataset', 'TaskConcatDataset'):
        leaves = []
        for d in ds_cfg['datasets']:
            leaves += sources(d)[0]
        return leaves, ds_cfg.get('weights') if kind == 'MixtureDataset' else None
    return [ds_cfg], None


def main():
    args = parse_args()
    from visionllm.apis.runner_utils import friendly_errors, load_config
    from visionllm.datasets.shards import write_parquet_shards, write_shards
    from visionllm.registry import DATASETS
    with friendly_errors(args.config):
        cfg = load_config(args.config, args.cfg_options)
        from mmengine.registry import init_default_scope
        init_default_scope(cfg.get('default_scope', 'visionllm'))
        leaves, weights = sources(cfg[f'{args.split}_dataloader'].dataset.to_dict())
        manifest = dict(config=osp.abspath(args.config), split=args.split, format=args.format, weights=weights,
                        sources=[])
        for k, leaf in enumerate(leaves):
            ds = DATASETS.build(leaf)
            name = f'{k}_{leaf["type"]}'
            write = write_parquet_shards if args.format == 'parquet' else write_shards
            out = write(ds, osp.join(args.out_dir, name), args.shard_size, key_prefix=f's{k}_')
            tasks = sorted({str(ds.get_data_info(i).get('task', '')) for i in range(min(len(ds), 50))} - {''})
            manifest['sources'].append(dict(name=name, type=leaf['type'], tasks=tasks, dataset=leaf, **out))
            print(f'{name}: {out["samples"]} samples in {len(out["shards"])} shards')
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'manifest.json'), 'w') as f:
            json.dump(manifest, f, indent=1)
        print(f'manifest: {osp.join(args.out_dir, "manifest.json")}')


if __name__ == '__main__':
    main()
