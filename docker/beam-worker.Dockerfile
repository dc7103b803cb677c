# Worker image for Dataflow (custom container) and Flink (the SDK harness of a DOCKER environment):
# Beam's own Python SDK image with flamingo-curate installed, so workers run exactly the code the
# launcher submitted. CPU only, and without torch by default: curation and its default hash
# decontamination need neither. The learned embedders (open_clip, TorchScript) come with
# --build-arg EXTRAS=[embed], which installs the CPU build of torch first (no CUDA wheels).
#   docker build -f docker/beam-worker.Dockerfile -t REGISTRY/flamingo-curate-worker .
#   docker build -f docker/beam-worker.Dockerfile --build-arg EXTRAS=[embed] -t REGISTRY/flamingo-curate-worker:embed .
#   curate run ... --runner=DataflowRunner --sdk_container_image=REGISTRY/flamingo-curate-worker
FROM apache/beam_python3.11_sdk:2.77.0

ARG EXTRAS=""
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# Debian's ffmpeg follows the base image's release: pinning its version would break on every security update.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/flamingo-curate
# torch and torchvision as pyproject.toml pins them (tests/test_dockerfiles.py keeps these in step)
RUN if [ -n "$EXTRAS" ]; then \
        pip install --no-cache-dir --index-url "$TORCH_INDEX" torch==2.14.1 torchvision==0.29.1; \
    fi
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY pipelines pipelines
COPY dedup dedup
COPY shards shards
COPY trainer trainer
# the project from its own folder: its pyproject.toml holds the pins
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".${EXTRAS}"
