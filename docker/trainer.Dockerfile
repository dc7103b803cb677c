# Trainer image for NVIDIA GPUs: the official PyTorch CUDA runtime image with flamingo-curate installed.
#   docker build -f docker/trainer.Dockerfile -t flamingo-trainer .
#   one GPU:  docker run --gpus all --ipc=host -v "$PWD:/workspace" flamingo-trainer train --config run.yaml
#   N GPUs:   docker run --gpus all --ipc=host -v "$PWD:/workspace" --entrypoint torchrun flamingo-trainer \
#                 --nproc_per_node N -m trainer.cli train --config run.yaml
# (--ipc=host, or a large --shm-size, because DataLoader workers and NCCL share memory through /dev/shm.)
# Weights (open_clip towers, Hugging Face LMs, tokenizers) are given as local paths in run.yaml and mounted
# in; nothing is downloaded at run time (HF_HUB_OFFLINE=1). It runs as UID 10001 (build arg TRAINER_UID):
# mount output folders writable for it, or pass --user "$(id -u):$(id -g)".
#
# The base tag must track the torch pin of pyproject.toml (torch==2.14.1, torchvision==0.29.1): the image
# ships torch 2.14.1+cu126 and torchvision 0.29.1+cu126, which satisfy those pins, so pip keeps them; the
# check after the install fails the build if pip replaced torch with PyPI's wheel (CUDA 13) instead
# (importing torchvision raises by itself when its CUDA major differs from torch's).
# The 2.14 images are Ubuntu 24.04 with its system Python 3.12; pyproject.toml's requires-python must
# admit 3.12 for `pip install .` to accept it.
FROM pytorch/pytorch:2.14.1-cuda12.6-cudnn9-runtime

ENV HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /opt/flamingo-curate
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY pipelines pipelines
COPY dedup dedup
COPY shards shards
COPY trainer trainer
# The image's Python is Ubuntu's, marked externally managed (PEP 668); a container owns its Python, so this one
# install may write into it, beside the image's torch.
RUN PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir . \
    && python3 -c "import torch, torchvision; assert torch.version.cuda.startswith('12.'), torch.__version__" \
    && trainer --version

# A user of its own: the Ubuntu base already has `ubuntu` at UID 1000. Numeric in USER, so Kubernetes'
# runAsNonRoot can verify it.
ARG TRAINER_UID=10001
RUN groupadd --gid "${TRAINER_UID}" trainer \
    && useradd --no-log-init --create-home --uid "${TRAINER_UID}" --gid trainer --shell /bin/bash trainer \
    && install -d -o trainer -g trainer /workspace
USER ${TRAINER_UID}:${TRAINER_UID}
WORKDIR /workspace

ENTRYPOINT ["trainer"]
CMD ["--help"]
