"""Shard writing: MB/s of writing the same M3W samples as webdataset tars, side by side in one run.

- ours, core: `shards.tar_writer.write_samples` (deterministic USTAR, per-sample offsets) into a file
  from Beam's `FileSystems.create`, as the sink does; without and with the manifest rows
  (`manifest_row` + `rows_to_parquet`, written beside the tar).
- ours, Beam sink: `pipelines.sinks.shards.WriteShards` in a real pipeline on the in-process
  FnApiRunner, whole: pipeline start-up and every sample coded through the runner (assign shard ->
  GroupByKey -> write), which the other rows don't pay. Fed twice: from this process's memory, and
  by `beam.Create(samples)`, which pickles and bz2-compresses the samples into the pipeline graph
  (a few MB/s, so run on `--create_samples` of them).
- bare `tarfile` (`mode="w"`, one `addfile` per member, default headers): the floor.
- `webdataset.TarWriter`, what a user would otherwise pick.

Samples: real images of ../shared/testdata/images put through the pipeline's own image step
(Pillow, 320 px longer side, JPEG quality 90), reused across synthetic documents of 1-5 images
with real prose (LLaVA-Bench answers) between them. Every output is read back with
`webdataset.WebDataset` and compared with the samples (keys and bytes); every writer writes the
samples `--repeat` times and the outputs are compared byte for byte.

    .venv/bin/python benchmarks/shard_writing.py [--testdata PATH] [--samples 3000] [--repeat 3] [--quick]
        [--shards 4] [--create_samples 100]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
import webdataset
from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from common import default_testdata
from real_images import load_images

from pipelines.images.processing import ProcessedImage
from pipelines.sinks.shards import WriteShards
from schemas.keys import stable_key
from schemas.records import ImageInfo, ImageSegment, InterleavedDocument, TextSegment
from schemas.samples import Sample, document_to_sample
from shards.manifest import manifest_row, rows_to_parquet
from shards.tar_writer import write_samples

FALLBACK_TEXT = "A photograph shared on a web page, with a paragraph of text that describes what it shows."

Writer = Callable[[list[Sample], Path], None]


# ---- the samples ---------------------------------------------------------------------------------


def load_paragraphs(testdata: Path) -> list[str]:
    path = testdata / "annotations/llava_bench/qa90_gpt4_answer.jsonl"
    if not path.exists():
        return [FALLBACK_TEXT]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [text for line in lines if line.strip() and (text := json.loads(line).get("text", "").strip())]


def make_samples(count: int, images: Sequence[ProcessedImage], paragraphs: Sequence[str], seed: int) -> list[Sample]:
    """`count` M3W samples: text, then 1-5 images each followed by text, as extraction leaves a page."""
    rng = random.Random(seed)
    samples = []
    for i in range(count):
        url = f"https://www.example.org/articles/{i:06d}.html"
        chosen = rng.sample(list(images), k=min(rng.randint(1, 5), len(images)))
        segments: list[TextSegment | ImageSegment] = [TextSegment(rng.choice(paragraphs))]
        for j, image in enumerate(chosen):
            info = ImageInfo(
                sha256=image.sha256,
                width=image.width,
                height=image.height,
                original_width=image.original_width,
                original_height=image.original_height,
                phash=image.phash,
                dedup_score=round(rng.uniform(0.0, 0.6), 4),
            )
            segments.append(
                ImageSegment(url=f"https://cdn.example.org/{i:06d}/{j}.jpg", alt=rng.choice(paragraphs)[:80], info=info)
            )
            segments.append(TextSegment(" ".join(rng.sample(list(paragraphs), k=min(2, len(paragraphs))))))
        content = "\n".join(s.text if isinstance(s, TextSegment) else s.info.sha256 for s in segments)
        doc = InterleavedDocument(
            doc_id=stable_key(url, content),
            url=url,
            segments=tuple(segments),
            source="CC-MAIN-2024-10/segment-00000.warc.gz",
            record_id=f"<urn:uuid:{stable_key(url, 'record')}>",
            crawl_time="2024-02-21T10:00:00Z",
            language="en",
            scores={"text_quality": round(rng.random(), 4)},
        )
        samples.append(document_to_sample(doc, [image.jpeg for image in chosen]))
    return samples


# ---- the writers: each writes all samples under `folder` -------------------------------------------


def ours_core(samples: list[Sample], folder: Path) -> None:
    with FileSystems.create(str(folder / "shard-00000-of-00001.tar")) as out:
        write_samples(samples, out)


def ours_core_with_manifest(samples: list[Sample], folder: Path) -> None:
    name = "m3w/shard-00000-of-00001.tar"
    with FileSystems.create(str(folder / "shard-00000-of-00001.tar")) as out:
        entries = write_samples(samples, out)
    rows = [manifest_row(sample, name, entry) for sample, entry in zip(samples, entries, strict=True)]
    with FileSystems.create(str(folder / "shard-00000-of-00001.parquet")) as out:
        out.write(rows_to_parquet(rows))


def ours_beam_sink(num_shards: int) -> Writer:
    """The sink fed by `beam.Create(samples)`: the samples are pickled into the pipeline graph."""

    def write(samples: list[Sample], folder: Path) -> None:
        with beam.Pipeline(runner=FnApiRunner()) as pipeline:
            _ = pipeline | beam.Create(samples) | WriteShards(str(folder), "m3w", "bench", num_shards=num_shards)

    return write


def ours_beam_sink_in_memory(num_shards: int) -> Writer:
    """The sink fed by indices looked up in this process's memory, as a source reading them would
    hand them over: the samples still cross the runner's coders (into GroupByKey and out)."""

    def write(samples: list[Sample], folder: Path) -> None:
        _IN_MEMORY[:] = samples
        try:
            with beam.Pipeline(runner=FnApiRunner()) as pipeline:
                _ = (
                    pipeline
                    | beam.Create(range(len(samples)))
                    | beam.Map(_sample_at)
                    | WriteShards(str(folder), "m3w", "bench", num_shards=num_shards)
                )
        finally:
            _IN_MEMORY.clear()

    return write


_IN_MEMORY: list[Sample] = []


def _sample_at(index: int) -> Sample:
    # Looked up through sys.modules at run time, so that pickling this function (by value: it lives in
    # __main__) doesn't take the samples along. Only the in-process runner shares this memory.
    return sys.modules[__name__]._IN_MEMORY[index]


def bare_tarfile(samples: list[Sample], folder: Path) -> None:
    with tarfile.open(folder / "shard.tar", mode="w") as tar:
        for sample in samples:
            for extension, data in sample.items():
                if extension.startswith("__"):
                    continue
                info = tarfile.TarInfo(f"{sample['__key__']}.{extension}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def webdataset_tarwriter(samples: list[Sample], folder: Path) -> None:
    with open(folder / "shard.tar", "wb") as stream, webdataset.TarWriter(stream) as writer:
        for sample in samples:
            writer.write(sample)


# ---- measuring and checking ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    bytes_written: int = 0
    seconds: float = float("inf")
    cpu_seconds: float = float("inf")
    digests: list[str] | None = None  # of all files written, once per repeat
    read_back: str = ""
    header_mtime: str = ""


def measure(name: str, writer: Writer, samples: list[Sample], scratch: Path, repeat: int) -> tuple[Result, Path]:
    result = Result(name, digests=[])
    for attempt in range(repeat):
        folder = scratch / f"{_slug(name)}-{attempt}"
        folder.mkdir(parents=True)
        wall, cpu = time.perf_counter(), time.process_time()
        writer(samples, folder)
        result.seconds = min(result.seconds, time.perf_counter() - wall)
        result.cpu_seconds = min(result.cpu_seconds, time.process_time() - cpu)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        result.bytes_written = sum(p.stat().st_size for p in files)
        result.digests.append(_digest(folder, files))
        if attempt < repeat - 1:
            shutil.rmtree(folder)
    return result, folder


def read_back(folder: Path) -> dict[str, dict[str, str]]:
    """key -> {extension: sha256} of every sample of every tar under `folder`, read by webdataset."""
    shards = sorted(str(p) for p in folder.rglob("*.tar"))
    found: dict[str, dict[str, str]] = {}
    for sample in webdataset.WebDataset(shards, shardshuffle=False):
        key = sample["__key__"]
        if key in found:
            raise AssertionError(f"{folder}: sample {key} read twice")
        found[key] = _fingerprint(sample)
    return found


def header_mtimes(folder: Path) -> str:
    """What the tar headers hold as modification time: 0 for reproducible writers."""
    shard = next(iter(sorted(folder.rglob("*.tar"))))
    with tarfile.open(shard) as tar:
        mtimes = {member.mtime for member in tar.getmembers()}
    return "0" if mtimes == {0} else "time of writing"


def _fingerprint(sample: Sample) -> dict[str, str]:
    return {name: hashlib.sha256(value).hexdigest() for name, value in sample.items() if not name.startswith("__")}


def _digest(folder: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _rate(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--samples", type=int, default=3000, help="M3W documents to write")
    parser.add_argument("--repeat", type=int, default=3, help="writes per writer; the best time counts (at least 2)")
    parser.add_argument("--shards", type=int, default=4, help="num_shards of the Beam sink (the others write one tar)")
    parser.add_argument(
        "--create_samples",
        type=int,
        default=100,
        help="samples of the beam.Create(samples) row, which runs at a few MB/s (the first N of --samples)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scratch", type=Path, default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--quick", action="store_true", help="100 samples, 2 writes, 2 shards, 20 created (CI)")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.repeat, args.shards, args.create_samples = 100, 2, 2, 20
    if args.repeat < 2:
        parser.error("--repeat must be at least 2: determinism is checked across the writes")

    images = load_images(args.testdata / "images")
    if not images:
        raise SystemExit(f"no usable images under {args.testdata / 'images'}")
    samples = make_samples(args.samples, images, load_paragraphs(args.testdata), args.seed)
    payload = sum(len(v) for s in samples for k, v in s.items() if not k.startswith("__"))
    image_count = sum(len(s) - 2 for s in samples)
    print(
        f"{len(samples)} M3W samples, {image_count} images ({len(images)} distinct real images, "
        f"{sum(len(i.jpeg) for i in images) / len(images) / 1e3:.0f} KB mean at 320 px), "
        f"{payload / 1e6:.1f} MB of members; best of {args.repeat} writes to local disk\n"
    )

    few = samples[: args.create_samples]
    writers: dict[str, tuple[Writer, list[Sample]]] = {
        "ours: write_samples (FileSystems.create)": (ours_core, samples),
        "ours: write_samples + manifest rows/parquet": (ours_core_with_manifest, samples),
        f"ours: WriteShards ({args.shards} shards), FnApiRunner, samples in memory *": (
            ours_beam_sink_in_memory(args.shards),
            samples,
        ),
        f"ours: WriteShards ({args.shards} shards), FnApiRunner, beam.Create(samples) **": (
            ours_beam_sink(args.shards),
            few,
        ),
        "tarfile mode='w', default headers (floor)": (bare_tarfile, samples),
        f"webdataset {webdataset.__version__} TarWriter": (webdataset_tarwriter, samples),
    }
    with tempfile.TemporaryDirectory(prefix="shard-writing-", dir=args.scratch) as scratch:
        results = []
        for name, (writer, written) in writers.items():
            result, folder = measure(name, writer, written, Path(scratch), args.repeat)
            found = read_back(folder)
            expected = {sample["__key__"]: _fingerprint(sample) for sample in written}
            result.read_back = "yes" if found == expected else f"NO ({len(found)} of {len(expected)} read)"
            result.header_mtime = header_mtimes(folder)
            shutil.rmtree(folder)
            results.append((result, len(written)))

    print(
        "| writer | samples | MB written | s | MB/s | MB/s/core | read back = input | same bytes on rewrite | tar mtime |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for r, count in results:
        megabytes = r.bytes_written / 1e6
        same = "yes" if len(set(r.digests)) == 1 else f"no ({len(set(r.digests))} different of {len(r.digests)})"
        print(
            f"| {r.name} | {count} | {megabytes:.1f} | {r.seconds:.2f} | {_rate(megabytes / r.seconds)} "
            f"| {_rate(megabytes / r.cpu_seconds)} | {r.read_back} | {same} | {r.header_mtime} |"
        )
    print(
        "\nMB written: every file written (the tars, and the manifest parquet where the writer makes one). "
        "MB/s/core: per second of process CPU time, all threads. read back = input: webdataset.WebDataset reads "
        "exactly the samples given (keys and bytes of every member)."
        "\n* the sink's whole cost on the in-process runner: pipeline start-up, coding every sample into and out "
        "of GroupByKey, sorting, the atomic rename; the samples come from this process's memory "
        "(Create(indices) | Map(lookup)), as a source would hand them over."
        "\n** the same, fed by beam.Create(samples): Beam cloudpickles the samples into the pipeline graph and "
        "bz2-compresses and decompresses them several times per run (building the graph, then in the worker): "
        "nearly all of its time. "
        "Run on the first --create_samples samples."
        "\nwebdataset stamps every member with time.time(), to the microsecond in a PAX header (its format= "
        "argument never reaches tarfile.open): one extra 512-byte block per member, and no two writes alike. "
        "Bare tarfile is reproducible here only because a bare TarInfo has mtime 0; tar.add() of files on "
        "disk would stamp their mtimes."
    )
    mismatched = [r.name for r, _ in results if r.read_back != "yes"]
    if mismatched:
        raise SystemExit(f"outputs that don't hold the samples: {mismatched}")


if __name__ == "__main__":
    main()
