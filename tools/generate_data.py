"""Generate the embedded synthetic dataset (deterministic by seed).

Example: python tools/generate_data.py data/synthetic --num-train 3000 --num-val 200
"""
import argparse
import json
import os.path as osp
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', nargs='?', default='data/synthetic')
    p.add_argument('--num-train', type=int, default=3000)
    p.add_argument('--num-val', type=int, default=200)
    p.add_argument('--num-test', type=int, default=200)
    p.add_argument('--image-size', type=int, default=128)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--force', action='store_true', help='regenerate even if meta.json matches')
    a = p.parse_args()
    meta_path = osp.join(a.out_dir, 'meta.json')
    from visionllm.datasets.synthetic.generator import FORMAT_VERSION
    want = dict(format_version=FORMAT_VERSION, seed=a.seed, image_size=a.image_size,
                splits=dict(train=a.num_train, val=a.num_val, test=a.num_test))
    if not a.force and osp.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if all(meta.get(k) == v for k, v in want.items()):
            print(f'{a.out_dir} is up to date (seed {a.seed}); use --force to regenerate')
            return
    from visionllm.datasets.synthetic import generate_dataset
    t0 = time.time()
    generate_dataset(a.out_dir, a.num_train, a.num_val, a.num_test, a.image_size, seed=a.seed,
                     workers=a.workers)
    print(f'wrote {a.out_dir} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
