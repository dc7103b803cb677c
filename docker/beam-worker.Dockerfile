# Worker image for Dataflow (custom container) and Flink (SDK harness): Beam's own Python SDK image
# with flamingo-curate installed, so workers run exactly the code the launcher submitted.
#   docker build -f docker/beam-worker.Dockerfile -t REGISTRY/flamingo-curate-worker .
#   curate run ... --runner=DataflowRunner --sdk_container_image=REGISTRY/flamingo-curate-worker
FROM apache/beam_python3.11_sdk:2.77.0

# Debian's ffmpeg follows the base image's release: pinning its version would break on every security update.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/flamingo-curate
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY pipelines pipelines
COPY dedup dedup
COPY shards shards
COPY trainer trainer
RUN pip install --no-cache-dir .
