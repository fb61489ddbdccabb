"""visionllm: a generalist-specialist multitask framework (InternVL + specialist decoders)."""
from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    'torch>=2.4,<2.15',
    'numpy>=1.26,<2.3',
    'onedl-mmengine>=0.10.12,<0.11',
    'onedl-mmcv>=2.3.6,<2.4',
    'onedl-mmdetection>=3.5.1,<3.6',
    'onedl-mmsegmentation>=1.4.2,<1.5',
    'mmpose>=1.3.2,<1.4',  # install with --no-deps, see scripts/setup_env.sh
    'xtcocotools>=1.14.3',
    'pycocotools>=2.0.8',
    'transformers>=5.0,<6',
    'tokenizers>=0.21',
    'diffusers>=0.35,<0.43',
    'peft>=0.17,<0.22',
    'accelerate>=1.0,<2',
    'scipy>=1.11',
    'ftfy', 'regex', 'json-tricks', 'munkres',
    'opencv-python>=4.8,<4.13',
    'pillow>=10', 'safetensors', 'tqdm',
]

setup(
    name='visionllm',
    version='0.1.0',
    description='Generalist-specialist multitask framework: InternVL routes to specialist decoders',
    packages=find_packages(include=['visionllm', 'visionllm.*']),
    python_requires='>=3.10',
    install_requires=INSTALL_REQUIRES,
    extras_require={
        'tests': ['pytest>=8', 'pytest-timeout', 'ruff>=0.6'],
        'deepspeed': ['deepspeed>=0.19.6,<0.19.7'],
    },
    include_package_data=True,
    package_data={'visionllm.ops': ['csrc/*.cpp']},  # built on first use (visionllm/ops/msda.py)
)
