"""Decontamination: (a) how many edited copies of benchmark images each embedder catches at
precision >= 0.99, and how fast it embeds; (b) how fast the FAISS index types search a million
entries, against brute-force NumPy on the same queries, and what the approximate ones miss; (c) how
many plain re-encodes of the benchmark images are caught under each `--resize_mode` when the search
looks at the training image against when it looks at the image as fetched (what the job does); (d)
geometric verification with local features (SIFT, ratio test, RANSAC homography): the inliers of
every edited copy against its own benchmark image, and of every distractor against every benchmark
image, and what a verification costs; (e) natural pairs that no edit made: each 1-FPS frame of the
real videos in ../shared/testdata/video searched among the frames before it (same scene, moving
camera or subject), by the hash search alone and by the two-stage decision; (f) the throughput of the
whole stage (decode, hash, search, verify the candidates) at set candidate rates, beside the hash
stage alone and imagehash.phash.

(a) Real data: the allennlp benchmark images in ../shared/testdata/images are indexed; each is
searched as it is and through every augmentation of dedup/augment.py, and so are the images of the
other folders there (distractors). (b) Synthetic data: random 256-bit codes and random unit 512-d
vectors; each query is a noisy copy of an indexed entry, as a contaminated image is.

    .venv/bin/python benchmarks/copy_detection.py [--testdata PATH] [--rows 1000000] [--queries 500]
        [--clip-weights PATH] [--sscd PATH] [--quick]

`--quick` (CI): the default embedder and the imagehash baseline on 10+10 images, an index of every
third benchmark image, 20,000 entries and 50 queries, and a subset of the images and videos in (c)-(e).
"""

from __future__ import annotations

import argparse
import io
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import faiss
import imagehash
import numpy as np
from common import default_testdata, per_core_rate
from PIL import Image
from threadpoolctl import threadpool_limits

from dedup.augment import AUGMENTATIONS, augment
from dedup.benchmarks.items import BenchmarkSource
from dedup.benchmarks.paths import IMAGE_EXTENSIONS
from dedup.build import build_index
from dedup.calibration import AugmentationResult, Calibration, calibrate, index_images
from dedup.embedders import Embedder, PerceptualHashEmbedder
from dedup.embedders.torch_models import RANDOM_WEIGHTS, OpenClipEmbedder, TorchScriptEmbedder
from dedup.local_features import LocalFeatureExtractor, LocalFeatureRules, best_inliers
from dedup.natural_pairs import NaturalPairs, natural_pairs
from dedup.verification import CopyDetector
from pipelines.decontamination import decode_jpegs, match_jpegs
from pipelines.images.processing import RESIZE_MODES, ImageRejected, ImageRules, process_image

BENCHMARK_FOLDER = "allennlp_benchmarks"
QUICK_SAMPLE = 10  # --quick: benchmark images and distractors calibrated on
PLUMBING_SAMPLE = 5  # random-weight models: this many benchmark images and distractors, enough to exercise the path
RECALL_GROUPS: dict[str, tuple[str, ...]] = {
    "crops 90-50%": ("crop90", "crop75", "crop60", "crop50"),
    "resize, JPEG": ("resize_half", "resize_quarter", "jpeg30", "jpeg60"),
    "colour, grey, flip": ("colour", "greyscale", "flip"),
    "text, border": ("text", "border"),
    "combined": ("combined",),
}
CODE_BITS, VECTOR_DIM = 256, 512
STREAM, BATCH = 400, 50  # (f): images per pass (--quick: 100), and per call as the Beam stage batches them
CANDIDATE_SHARES = (0.01, 0.05, 0.1, 0.2)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 16, 40, 128


class ImagehashPHash(Embedder):
    """imagehash.phash, 64 bits of the whole image: what a user would otherwise reach for."""

    kind: ClassVar[str] = "imagehash_phash"
    binary: ClassVar[bool] = True
    dim = 64

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        hashes = [imagehash.phash(image).hash.ravel() for image in images]
        return np.packbits(np.stack(hashes), axis=1) if hashes else np.zeros((0, 8), np.uint8)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True)
class Candidate:
    name: str
    make: Callable[[], Embedder]
    views: str
    note: str = ""
    sample: int | None = None  # calibrate on this many benchmark images and distractors (None: all)


def candidates(args: argparse.Namespace) -> list[Candidate | str]:
    """Each embedder to measure, or the line to print in its place."""
    family = "perceptual-hash family (256 bit)"
    if args.quick:
        return [
            Candidate(family, PerceptualHashEmbedder, "regional", "the default", QUICK_SAMPLE),
            Candidate("imagehash.phash, 64 bit", ImagehashPHash, "full", "baseline: the usual choice", QUICK_SAMPLE),
            "the other embedders: skipped in --quick",
        ]
    found: list[Candidate | str] = [
        Candidate(family, PerceptualHashEmbedder, "full"),
        Candidate(family, PerceptualHashEmbedder, "crops"),
        Candidate(family, PerceptualHashEmbedder, "dense"),
        Candidate(family, PerceptualHashEmbedder, "regional", "the default"),
        Candidate("pHash, 64 bit, ours", lambda: PerceptualHashEmbedder(hashes=("phash",)), "full"),
        Candidate("imagehash.phash, 64 bit", ImagehashPHash, "full", "baseline: the usual choice"),
    ]
    weights = str(args.clip_weights) if args.clip_weights else RANDOM_WEIGHTS
    note = "" if args.clip_weights else f"untrained weights: plumbing check, {PLUMBING_SAMPLE}+{PLUMBING_SAMPLE} images"
    found.append(
        Candidate(
            f"open_clip ViT-B-32 ({'weights ' + Path(weights).name if args.clip_weights else 'random weights'})",
            lambda: OpenClipEmbedder("ViT-B-32", weights),
            "full",
            note,
            None if args.clip_weights else PLUMBING_SAMPLE,
        )
    )
    if args.sscd:
        found.append(
            Candidate(f"TorchScript {Path(args.sscd).name}", lambda: TorchScriptEmbedder(str(args.sscd)), "full")
        )
    else:
        found.append("TorchScript copy-detection model (SSCD): skipped, pass --sscd PATH")
    return found


def every(items: list, args: argparse.Namespace, step: int) -> list:
    """All the items, or every step-th one in --quick."""
    return items[::step] if args.quick else items


def image_paths(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix.lower() in IMAGE_EXTENSIONS)


def load(source: Path | BinaryIO) -> Image.Image:
    with Image.open(source) as opened:
        return opened.convert("RGB")


def embedding_rate(embedder: Embedder, images: list[Image.Image], rounds: int, batch: int = 16) -> float:
    batches = [images[start : start + batch] for start in range(0, len(images), batch)]
    return per_core_rate(embedder.embed, batches, rounds) * len(images) / len(batches)


def recall_of(results: Sequence[AugmentationResult], names: Sequence[str]) -> float:
    results = {result.augmentation: result for result in results}
    hits = sum(results[name].recall * results[name].positives for name in names)
    return hits / sum(results[name].positives for name in names)


def indexed_benchmark_folder(args: argparse.Namespace) -> Path:
    """The benchmark images that (a), (e) and (f) index: all, or in --quick every third, linked into a
    temporary folder that lives as long as `args` (their regional views are most of a quick run)."""
    folder = args.testdata / "images" / BENCHMARK_FOLDER
    if not args.quick:
        return folder
    args.quick_folder = tempfile.TemporaryDirectory(prefix="copy-detection-quick-")
    for number, path in enumerate(image_paths(folder)[::3]):
        (Path(args.quick_folder.name) / f"{number:03d}-{path.name}").symlink_to(path)
    return Path(args.quick_folder.name)


def part_a(args: argparse.Namespace) -> None:
    images = args.testdata / "images"
    source = BenchmarkSource("folder", media=str(args.benchmark_folder), label="bench")
    distractors = [path for path in image_paths(images) if BENCHMARK_FOLDER not in path.parts]
    real = [load(path) for path in image_paths(images)]
    print(f"## (a) recall at precision >= {args.precision:g} on edited copies of real benchmark images\n")
    print(
        f"{len(image_paths(args.benchmark_folder))} benchmark images, {len(distractors)} distractor images; each "
        f"searched as it is and through {len(AUGMENTATIONS)} augmentations. threshold: the lowest score with precision "
        f">= {args.precision:g}; recall: share of benchmark copies matched to their own image there (per group of "
        f"augmentations in the later columns); FP: false positives there. Embedding: one core (process CPU time) over "
        f"the {len(real)} real images, mean {np.mean([i.width * i.height for i in real]) / 1e6:.2f} MP."
        + (
            f" --quick: each embedder on {QUICK_SAMPLE} benchmark images and {QUICK_SAMPLE} distractors."
            if args.quick
            else ""
        )
        + "\n"
    )
    columns = ["embedder", "views", "rows", "threshold", "recall", "FP", *RECALL_GROUPS, "images/s/core", "note"]
    print_row(columns)
    print("|" + "|".join(":--" if column in ("embedder", "views", "note") else "--:" for column in columns) + "|")
    for candidate in candidates(args):
        if isinstance(candidate, str):
            print_row([candidate, *([""] * (len(columns) - 1))])
        else:
            for row in measure(candidate, source, distractors, real, args):
                print_row(row)


def measure(
    candidate: Candidate,
    source: BenchmarkSource,
    distractors: list[Path],
    real: list[Image.Image],
    args: argparse.Namespace,
) -> list[str]:
    embedder = candidate.make()
    index, _ = build_index([source], embedder, candidate.views, workers=1)  # workers=1: not every embedder has a spec
    positives, negatives = index_images(index), distractors
    if candidate.sample:
        positives = index_images(index, limit=candidate.sample, seed=args.seed)
        chosen = np.random.default_rng(args.seed).choice(len(distractors), candidate.sample, replace=False)
        negatives = [distractors[i] for i in sorted(chosen)]
    verify = candidate.views == "regional"  # the default's two stages; the others are stage one alone
    result = calibrate(index, positives, negatives, target_precision=args.precision, seed=args.seed, verify=verify)
    if candidate.note == "the default":
        args.default = (index, result)  # parts e and f use the default's index and thresholds
    if candidate.sample:
        rate = embedding_rate(embedder, real[: 2 * candidate.sample], rounds=1)
    else:
        rate = embedding_rate(embedder, real, args.rounds)
    rows = [
        [candidate.name, candidate.views, str(index.index.ntotal), *measured(result), f"{rate:.1f}", candidate.note]
    ]
    if result.two_stage is not None and candidate.views == "regional":
        stages = result.two_stage
        rows.append(
            [
                f"{candidate.name} + SIFT/RANSAC verification",
                candidate.views,
                str(index.index.ntotal),
                *verified_cells(result),
                "see (f)",
                f"two stages: a copy at >= {stages.threshold:.4f}, verified from {stages.candidate_threshold:.4f} "
                f"with >= {stages.min_inliers} inliers",
            ]
        )
    return rows


def print_row(cells: Sequence[str]) -> None:
    print("| " + " | ".join(cells) + " |")


def measured(result: Calibration) -> list[str]:
    """threshold, recall, false positives and the grouped recalls, or why there is no threshold."""
    point = result.recommended
    if point is None:
        return ["none", f"no threshold reaches {result.target_precision:g}", "", *([""] * len(RECALL_GROUPS))]
    groups = [f"{recall_of(result.augmentations, names):.3f}" for names in RECALL_GROUPS.values()]
    return [f"{point.threshold:.4f}", f"{point.recall:.3f}", str(point.false_positives), *groups]


def verified_cells(result: Calibration) -> list[str]:
    point = result.verified_point
    groups = [f"{recall_of(result.verified_augmentations, names):.3f}" for names in RECALL_GROUPS.values()]
    return [f"{result.two_stage.candidate_threshold:.4f}", f"{point.recall:.3f}", str(point.false_positives), *groups]


@dataclass(frozen=True)
class Method:
    name: str
    build: Callable[[], Any]  # -> the searchable thing
    search: Callable[[Any, np.ndarray], np.ndarray]  # -> best score per query (higher is closer)


def synthetic_codes(rows: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random 256-bit codes; queries are indexed codes with 0-32 bits flipped (score >= 0.875)."""
    codes = rng.integers(0, 256, size=(rows, CODE_BITS // 8), dtype=np.uint8)
    flips = np.zeros((queries, CODE_BITS), dtype=bool)
    for row, count in enumerate(rng.integers(0, 33, size=queries)):
        flips[row, rng.choice(CODE_BITS, count, replace=False)] = True
    return codes, codes[rng.choice(rows, queries)] ^ np.packbits(flips, axis=1)


def synthetic_vectors(rows: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random unit 512-d vectors; queries are indexed vectors plus noise (cosine 0.86-1.0)."""
    vectors = np.empty((rows, VECTOR_DIM), dtype=np.float32)
    for start in range(0, rows, 100_000):  # in chunks: a float64 draw of the whole would double the memory
        chunk = rng.standard_normal((min(100_000, rows - start), VECTOR_DIM), dtype=np.float32)
        vectors[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    noise = rng.standard_normal((queries, VECTOR_DIM), dtype=np.float32)
    noise *= rng.uniform(0.0, 0.6, size=(queries, 1)).astype(np.float32) / np.linalg.norm(noise, axis=1, keepdims=True)
    chosen = vectors[rng.choice(rows, queries)] + noise
    return vectors, chosen / np.linalg.norm(chosen, axis=1, keepdims=True)


def faiss_binary(codes: np.ndarray, lists: int = 0) -> Any:
    """Flat, or IVF with the settings of dedup/index.py (nprobe 32, trained on up to 200k codes)."""
    if not lists:
        index = faiss.IndexBinaryFlat(CODE_BITS)
    else:
        index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(CODE_BITS), CODE_BITS, lists)
        index.train(codes[np.random.default_rng(0).choice(len(codes), min(len(codes), 200_000), replace=False)])
        index.nprobe = min(lists, 32)
    index.add(codes)
    return index


def faiss_vectors(vectors: np.ndarray, hnsw: bool) -> Any:
    if hnsw:
        index = faiss.IndexHNSWFlat(VECTOR_DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(VECTOR_DIM)
    index.add(vectors)
    return index


def faiss_best(index: Any, queries: np.ndarray) -> np.ndarray:
    distances, _ = index.search(queries, 1)
    closer = -1.0 if isinstance(index, faiss.IndexBinary) else 1.0  # Hamming distance vs inner product
    return closer * distances[:, 0].astype(np.float64)


POPCOUNT = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)


def numpy_hamming(codes: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """A query at a time: XOR against every code, popcount each byte through a 256-entry table."""
    best = [POPCOUNT[np.bitwise_xor(codes, query)].sum(axis=1, dtype=np.uint16).min() for query in queries]
    return -np.asarray(best, dtype=np.float64)


def numpy_inner_product(vectors: np.ndarray, queries: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    best = np.full(len(queries), -np.inf)
    for start in range(0, len(vectors), chunk):
        best = np.maximum(best, (queries @ vectors[start : start + chunk].T).max(axis=1))
    return best


def timed(method: Method, queries: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """-> best scores, build seconds, queries/s (wall clock), queries/s per core (process CPU time)."""
    started = time.perf_counter()
    searchable = method.build()
    built = time.perf_counter() - started
    wall, cpu = time.perf_counter(), time.process_time()
    best = method.search(searchable, queries)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return best, built, len(queries) / wall, len(queries) / max(cpu, 1e-9)


def part_b(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    print(
        f"\n## (b) search throughput, {args.rows:,} entries, {args.queries:,} queries, {faiss.omp_get_max_threads()} threads\n"
    )
    print(
        "Synthetic data, uniform random codes and unit vectors: the speeds are what real descriptors get, but the "
        "recall@1 of the approximate indexes is a worst case, since random data has no clusters or low-dimensional "
        "structure for them to exploit. Each query is a noisy copy of an indexed entry (codes: 0-32 of 256 bits "
        "flipped, score >= 0.875; vectors: cosine 0.86-1.0 to it). recall@1: share of queries whose best score equals "
        "the exact best. queries/s: wall clock, all queries in one batch; /core: over process CPU time.\n"
    )
    print("| index | data | build s | queries/s | queries/s/core | recall@1 vs exact |")
    print("|:--|:--|--:|--:|--:|--:|")
    binary_rows(args, rng)
    float_rows(args, rng)
    print(
        f"\nHNSW is built with M {HNSW_M} / efConstruction {HNSW_EF_CONSTRUCTION} to fit this run; dedup/index.py "
        "builds M 32 / efConstruction 80 (more recall, about 4x the build time)."
    )


def binary_rows(args: argparse.Namespace, rng: np.random.Generator) -> None:
    codes, queries = synthetic_codes(args.rows, args.queries, rng)
    lists = max(1, min(65_536, int(4 * math.sqrt(args.rows))))  # as dedup/index.py chooses
    methods = [
        Method("FAISS IndexBinaryFlat (exact)", lambda: faiss_binary(codes), faiss_best),
        Method(
            f"FAISS IndexBinaryIVF, {lists} lists, nprobe {min(lists, 32)}",
            lambda: faiss_binary(codes, lists),
            faiss_best,
        ),
        Method("NumPy XOR + 8-bit popcount table (exact)", lambda: codes, numpy_hamming),
    ]
    report(methods, queries, f"{CODE_BITS}-bit codes")


def float_rows(args: argparse.Namespace, rng: np.random.Generator) -> None:
    vectors, queries = synthetic_vectors(args.rows, args.queries, rng)
    hnsw = f"M {HNSW_M}, efConstruction {HNSW_EF_CONSTRUCTION}, efSearch {HNSW_EF_SEARCH}"
    methods = [
        Method("FAISS IndexFlatIP (exact)", lambda: faiss_vectors(vectors, hnsw=False), faiss_best),
        Method(f"FAISS IndexHNSWFlat, {hnsw}", lambda: faiss_vectors(vectors, hnsw=True), faiss_best),
        Method("NumPy matrix product (exact)", lambda: vectors, numpy_inner_product),
    ]
    report(methods, queries, f"{VECTOR_DIM}-d float32")


def report(methods: list[Method], queries: np.ndarray, data: str) -> None:
    """The first method is exact: the others' recall@1 is measured against its scores."""
    exact = None
    for method in methods:
        best, built, rate, per_core = timed(method, queries)
        exact = best if exact is None else exact
        recall = np.mean(best >= exact - 1e-5)
        print_row([method.name, data, f"{built:.1f}", f"{rate:,.0f}", f"{per_core:,.0f}", f"{recall:.3f}"])


def part_c(args: argparse.Namespace) -> None:
    folder = args.testdata / "images" / BENCHMARK_FOLDER
    index, _ = build_index([BenchmarkSource("folder", media=str(folder), label="bench")], PerceptualHashEmbedder())
    copies = []
    for path in every(image_paths(folder), args, 4):
        encoded = io.BytesIO()
        load(path).save(encoded, "JPEG", quality=85)
        copies.append(encoded.getvalue())
    print("\n## (c) re-encoded benchmark images caught, by resize mode and by what is searched\n")
    print(
        f"{len(copies)} benchmark images, each re-encoded (JPEG quality 85), processed by the image stage's rules "
        f"(320 px) and searched in the default index (pHash family, crop views) at its threshold {index.threshold:.3f}."
        " The training image of `center_crop` is the centre square; of `pad`, the picture on a white square.\n"
    )
    print("| --resize_mode | caught, searching the training image | caught, searching the image as fetched |")
    print("| :-- | --: | --: |")
    for mode in RESIZE_MODES:
        processed = []
        for data in copies:
            try:
                processed.append(process_image(data, ImageRules(resize_mode=mode, keep_whole_for_search=True)))
            except ImageRejected:
                continue
        caught = [
            sum(m is not None and m.score >= index.threshold for m in match_jpegs(index, jpegs))
            for jpegs in ([p.jpeg for p in processed], [p.search_jpeg for p in processed])
        ]
        print(f"| {mode} | {caught[0]} of {len(processed)} | {caught[1]} of {len(processed)} |")


def part_d(args: argparse.Namespace) -> None:
    images = args.testdata / "images"
    rules, rng = LocalFeatureRules(), np.random.default_rng(args.seed)
    extract = LocalFeatureExtractor(rules)
    benchmark = [load(path) for path in every(image_paths(images / BENCHMARK_FOLDER), args, 12)]
    others = [path for path in image_paths(images) if BENCHMARK_FOLDER not in path.parts]
    distractors = [load(path) for path in every(others, args, 12)]
    started = time.process_time()
    references = [extract(image) for image in benchmark]
    index_side = (time.process_time() - started) / len(benchmark)
    started, worst = time.process_time(), 0
    for image in distractors:
        query = extract(image)
        worst = max(worst, *(best_inliers(query, reference, rules) for reference in references))
    per_query = (time.process_time() - started) / len(distractors)
    print("\n## (d) geometric verification with local features (SIFT, ratio test, RANSAC homography)\n")
    print(
        f"Each of the {len(benchmark)} benchmark images edited {len(AUGMENTATIONS)} ways and verified against its "
        f"own image (the query also mirrored); each of the {len(distractors)} distractors verified against every "
        f"benchmark image ({len(distractors) * len(benchmark)} pairs, the worst case of a permissive first stage). "
        f"A copy: >= {rules.min_inliers} inliers. One core: {index_side * 1000:.0f} ms to extract a benchmark "
        f"image's features (kept in the index), {per_query * 1000:.0f} ms per distractor for its "
        f"features and {len(benchmark)} verifications.\n"
    )
    print("| edit | recall at >= min inliers | inliers, 10th percentile | median |")
    print("| :-- | --: | --: | --: |")
    for name in AUGMENTATIONS:
        found = np.array(
            [
                best_inliers(extract(augment(image, name, rng)), ref, rules)
                for image, ref in zip(benchmark, references, strict=True)
            ]
        )
        recall = np.mean(found >= rules.min_inliers)
        print(f"| {name} | {recall:.3f} | {np.percentile(found, 10):.0f} | {np.median(found):.0f} |")
    print(f"| distractors (false positives) | {worst} inliers at most: {int(worst >= rules.min_inliers)} pairs | | |")


def part_e(args: argparse.Namespace) -> None:
    videos = sorted(path for path in (args.testdata / "video").rglob("*") if path.suffix in (".mp4", ".avi"))
    index, calibration = args.default
    stages = calibration.two_stage
    found = natural_pairs([str(path) for path in every(videos, args, 5)], index, calibration.threshold, stages)
    print("\n## (e) natural pairs: consecutive 1-FPS frames of real videos\n")
    print(
        "Frame t+1 of each video searched in an index of every video's frames but the last, built as the default is "
        f"(regional views, local features): found when the decision is a copy of a frame of the same video. Stage one "
        f"alone: score >= {calibration.threshold:.4f}, its calibrated threshold in (a); two stages: the default's "
        f"calibrated decision in (a) (a copy at >= {stages.threshold:.4f}, verified from "
        f"{stages.candidate_threshold:.4f} with >= {stages.min_inliers} inliers).\n"
    )
    print("| video | pairs | found, stage one alone | found, two stages |")
    print("| :-- | --: | --: | --: |")
    total = NaturalPairs("all", *(sum(getattr(r, name) for r in found) for name in ("pairs", "stage_one", "two_stage")))
    for row in [*found, total]:
        print(
            f"| {row.source} | {row.pairs} | {row.stage_one} ({row.stage_one / row.pairs:.2f}) "
            f"| {row.two_stage} ({row.two_stage / row.pairs:.2f}) |"
        )


def part_f(args: argparse.Namespace) -> None:
    """The whole stage on JPEG bytes (decode, hash, search, decide), one core, at set candidate rates."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    with threadpool_limits(1):  # one BLAS thread, as the Beam stage sets it: idle ones spin
        stage_throughput(args)
    faiss.omp_set_num_threads(threads)


def stage_throughput(args: argparse.Namespace) -> None:
    index, calibration = args.default
    detector = CopyDetector(index, calibration.two_stage)
    images = args.testdata / "images"
    distractors = [load(path) for path in image_paths(images) if BENCHMARK_FOLDER not in path.parts]
    benchmark = [load(path) for path in image_paths(args.benchmark_folder)]
    rng = np.random.default_rng(args.seed)
    edits = [augment(image, name, rng) for image in benchmark for name in ("crop50", "crop60", "text")]
    clean = [
        image
        for image in distractors + [augment(d, "jpeg60", rng) for d in distractors]
        if not _needs_verification(detector, image)
    ]
    verified = [image for image in edits if _needs_verification(detector, image)]
    clean_jpegs, verified_jpegs = [jpeg_bytes(image) for image in clean], [jpeg_bytes(image) for image in verified]
    phash_index = faiss.IndexBinaryFlat(64)
    phash_index.add(ImagehashPHash().embed(benchmark))
    print("\n## (f) throughput of the whole decontamination stage, one core\n")
    print(
        f"Each image is JPEG bytes (mean {np.mean([len(j) for j in clean_jpegs]) / 1000:.0f} KB, "
        f"{np.mean([i.width * i.height for i in clean]) / 1e6:.2f} MP): decoded, hashed, searched among "
        f"{index.index.ntotal:,} rows ({len(benchmark)} benchmark images, regional views) and decided. A stream of "
        f"{STREAM} images mixes clean images (real distractors under the candidate threshold: "
        f"{len(clean)} of them, cycled) with the given share of candidates (edited benchmark copies between the "
        f"candidate threshold and the outright one, {len(verified)} of them, cycled), which are verified with SIFT + "
        "RANSAC. Process CPU time, best of "
        f"{args.rounds}, one thread (BLAS, FAISS, OpenCV); imagehash.phash: its 64-bit code searched among the benchmark "
        "images, no views.\n"
    )
    print("| stage | candidates verified | images/s/core |")
    print("| :-- | --: | --: |")
    stream = [clean_jpegs[i % len(clean_jpegs)] for i in range(STREAM // 4 if args.quick else STREAM)]
    hash_only = CopyDetector(index, replace(calibration.two_stage, candidate_threshold=calibration.two_stage.threshold))

    def phash_stage(jpegs: list[bytes]) -> None:
        phash_index.search(ImagehashPHash().embed(decode_jpegs(jpegs)), 1)

    rate = per_core_rate(phash_stage, batches(stream), args.rounds) * BATCH
    print(f"| imagehash.phash, 64 bit, decode + hash + search | 0% | {rate:.0f} |")
    rate = per_core_rate(lambda jpegs: hash_only.decide(decode_jpegs(jpegs)), batches(stream), args.rounds) * BATCH
    print(f"| hash family, stage one alone | 0% | {rate:.0f} |")
    for share in CANDIDATE_SHARES:
        every_nth = round(1 / share)
        mixed = [
            verified_jpegs[i % len(verified_jpegs)] if i % every_nth == 0 else jpeg for i, jpeg in enumerate(stream)
        ]
        rate = per_core_rate(lambda jpegs: detector.decide(decode_jpegs(jpegs)), batches(mixed), args.rounds) * BATCH
        print(f"| hash family + verification (two stages) | {1 / every_nth:.0%} | {rate:.0f} |")


def _needs_verification(detector: CopyDetector, image: Image.Image) -> bool:
    decision = detector.decide([image])[0]
    return decision.inliers is not None


def jpeg_bytes(image: Image.Image) -> bytes:
    encoded = io.BytesIO()
    image.save(encoded, "JPEG", quality=90)
    return encoded.getvalue()


def batches(jpegs: list[bytes]) -> list[list[bytes]]:
    return [jpegs[start : start + BATCH] for start in range(0, len(jpegs), BATCH)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--rows", type=int, help="entries in the synthetic search index (b); default 1,000,000")
    parser.add_argument("--queries", type=int, help="search queries (b); default 500")
    parser.add_argument("--clip-weights", type=Path, help="open_clip ViT-B-32 checkpoint (default: random weights)")
    parser.add_argument(
        "--sscd", type=Path, help="TorchScript copy-detection model, e.g. SSCD's sscd_disc_mixup.torchscript.pt"
    )
    parser.add_argument("--precision", type=float, default=0.99, help="target precision (a)")
    parser.add_argument("--rounds", type=int, default=2, help="embedding throughput: best of this many passes (a)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small run of every part (CI)")
    args = parser.parse_args()
    args.rows = args.rows or (20_000 if args.quick else 1_000_000)
    args.queries = args.queries or (50 if args.quick else 500)
    args.benchmark_folder = indexed_benchmark_folder(args)
    part_a(args)
    part_b(args)
    part_c(args)
    part_d(args)
    part_e(args)
    part_f(args)


if __name__ == "__main__":
    main()
