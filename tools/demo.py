"""Web demo of a trained generalist: one tab per task (detect, chat, segment, pose, generate, edit), offline.

Example:
  python tools/demo.py configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py \
      --weights work_dirs/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic/iter_1800.pth
  then open http://127.0.0.1:7860
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='model config')
    p.add_argument('--weights', help='checkpoint file or DeepSpeed checkpoint directory (none: random weights)')
    p.add_argument('--host', default='127.0.0.1', help='address to serve on (0.0.0.0: every interface)')
    p.add_argument('--port', type=int, default=7860)
    p.add_argument('--examples', default='data/synthetic',
                   help='data root whose test split (annotations/instances_test.json) gives the examples')
    p.add_argument('--max-image-size', type=int, default=1333,
                   help='uploads with a longer side are downscaled for the model (results in image coordinates)')
    p.add_argument('--max-file-size', default='50mb', help='largest upload accepted')
    p.add_argument('--device', default='cpu')
    return p.parse_args()


def main():
    args = parse_args()
    os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # offline: no telemetry, no update check
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from visionllm.apis import VisionLLMInferencer
    from visionllm.apis.demo import build_demo, test_split_examples
    from visionllm.apis.runner_utils import friendly_errors
    with friendly_errors(args.config):
        inf = VisionLLMInferencer(args.config, args.weights, device=args.device, max_image_size=args.max_image_size)
    examples = test_split_examples(args.examples)
    demo = build_demo(inf, examples)
    print(f'serving on http://{args.host}:{args.port}', flush=True)
    demo.queue().launch(server_name=args.host, server_port=args.port, share=False, inbrowser=False,
                        allowed_paths=[osp.abspath(args.examples)] if examples else None,
                        max_file_size=args.max_file_size, show_error=True)


if __name__ == '__main__':
    main()
