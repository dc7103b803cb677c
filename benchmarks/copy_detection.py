"""Decontamination: (a) how many edited copies of benchmark images each embedder catches at
precision >= 0.99, and how fast it embeds; (b) how fast the FAISS index types search a million
entries, against brute-force NumPy on the same queries, and what the approximate ones miss; (c) how
many plain re-encodes of the benchmark images are caught under each `--resize_mode` when the search
looks at the training image against when it looks at the image as fetched (what the job does); (d)
geometric verification with local features (SIFT, ratio test, RANSAC homography): the inliers of
every edited copy against its own benchmark image, and of every distractor against every benchmark
image, and what a verification costs; (e) natural pairs that no edit made: each 1-FPS frame of the
real videos in ../shared/testdata/video searched among the frames before it (same scene, moving
camera or subject), by the hash search alone and by verification against the frame before it.

(a) Real data: the allennlp benchmark images in ../shared/testdata/images are indexed; each is
searched as it is and through every augmentation of dedup/augment.py, and so are the images of the
other folders there (distractors). (b) Synthetic data: random 256-bit codes and random unit 512-d
vectors; each query is a noisy copy of an indexed entry, as a contaminated image is.

    .venv/bin/python benchmarks/copy_detection.py [--testdata PATH] [--rows 1000000] [--queries 500]
        [--clip-weights PATH] [--sscd PATH] [--quick]

`--quick` (CI): the default embedder and the imagehash baseline on 10+10 images, 20,000 entries and
50 queries, and a subset of the images and videos in (c)-(e).
"""

from __future__ import annotations

import argparse
import io
import itertools
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import faiss
import imagehash
import numpy as np
from common import default_testdata, per_core_rate
from PIL import Image

from dedup.augment import AUGMENTATIONS, augment
from dedup.benchmarks.items import BenchmarkSource
from dedup.benchmarks.paths import IMAGE_EXTENSIONS
from dedup.build import build_index
from dedup.calibration import Calibration, calibrate, index_images
from dedup.embedders import Embedder, PerceptualHashEmbedder
from dedup.embedders.torch_models import RANDOM_WEIGHTS, OpenClipEmbedder, TorchScriptEmbedder
from dedup.local_features import LocalFeatureExtractor, LocalFeatureRules, best_inliers
from dedup.video_frames import FrameExtractionError, sample_frames
from pipelines.decontamination import match_jpegs
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
            Candidate(family, PerceptualHashEmbedder, "crops", "the default", QUICK_SAMPLE),
            Candidate("imagehash.phash, 64 bit", ImagehashPHash, "full", "baseline: the usual choice", QUICK_SAMPLE),
            "the other embedders: skipped in --quick",
        ]
    found: list[Candidate | str] = [
        Candidate(family, PerceptualHashEmbedder, "full"),
        Candidate(family, PerceptualHashEmbedder, "crops", "the default"),
        Candidate(family, PerceptualHashEmbedder, "dense"),
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


def recall_of(calibration: Calibration, names: Sequence[str]) -> float:
    results = {result.augmentation: result for result in calibration.augmentations}
    hits = sum(results[name].recall * results[name].positives for name in names)
    return hits / sum(results[name].positives for name in names)


def part_a(args: argparse.Namespace) -> None:
    images = args.testdata / "images"
    source = BenchmarkSource("folder", media=str(images / BENCHMARK_FOLDER), label="bench")
    distractors = [path for path in image_paths(images) if BENCHMARK_FOLDER not in path.parts]
    real = [load(path) for path in image_paths(images)]
    print(f"## (a) recall at precision >= {args.precision:g} on edited copies of real benchmark images\n")
    print(
        f"{len(image_paths(images / BENCHMARK_FOLDER))} benchmark images, {len(distractors)} distractor images; each "
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
            print_row(measure(candidate, source, distractors, real, args))


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
    result = calibrate(index, positives, negatives, target_precision=args.precision, seed=args.seed)
    if candidate.sample:
        rate = embedding_rate(embedder, real[: 2 * candidate.sample], rounds=1)
    else:
        rate = embedding_rate(embedder, real, args.rounds)
    cells = [candidate.name, candidate.views, str(index.index.ntotal), *measured(result)]
    return [*cells, f"{rate:.1f}", candidate.note]


def print_row(cells: Sequence[str]) -> None:
    print("| " + " | ".join(cells) + " |")


def measured(result: Calibration) -> list[str]:
    """threshold, recall, false positives and the grouped recalls, or why there is no threshold."""
    point = result.recommended
    if point is None:
        return ["none", f"no threshold reaches {result.target_precision:g}", "", *([""] * len(RECALL_GROUPS))]
    groups = [f"{recall_of(result, names):.3f}" for names in RECALL_GROUPS.values()]
    return [f"{point.threshold:.4f}", f"{point.recall:.3f}", str(point.false_positives), *groups]


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
    benchmark = [load(path) for path in every(image_paths(images / BENCHMARK_FOLDER), args, 6)]
    others = [path for path in image_paths(images) if BENCHMARK_FOLDER not in path.parts]
    distractors = [load(path) for path in every(others, args, 6)]
    started = time.process_time()
    references = [extract.with_mirror(image) for image in benchmark]
    index_side = (time.process_time() - started) / len(benchmark)
    started, worst = time.process_time(), 0
    for image in distractors:
        query = extract(image)
        worst = max(worst, *(best_inliers(query, reference, rules) for reference in references))
    per_query = (time.process_time() - started) / len(distractors)
    print("\n## (d) geometric verification with local features (SIFT, ratio test, RANSAC homography)\n")
    print(
        f"Each of the {len(benchmark)} benchmark images edited {len(AUGMENTATIONS)} ways and verified against its "
        f"own image (and its mirror image); each of the {len(distractors)} distractors verified against every "
        f"benchmark image ({len(distractors) * len(benchmark)} pairs, the worst case of a permissive first stage). "
        f"A copy: >= {rules.min_inliers} inliers. One core: {index_side * 1000:.0f} ms to extract a benchmark "
        f"image's features and its mirror's (kept in the index), {per_query * 1000:.0f} ms per distractor for its "
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
    videos = every(videos, args, 5)
    extract, rules = LocalFeatureExtractor(), LocalFeatureRules()
    print("\n## (e) natural pairs: consecutive 1-FPS frames of real videos\n")
    print(
        "Frame t+1 searched in an index of every video's frames but the last (default hash family, crop views, "
        "its threshold): found when the best match at or over the threshold is a frame of the same video. "
        f"Verified: >= {rules.min_inliers} inliers against frame t.\n"
    )
    print("| video | pairs | found by the hash search | verified against frame t |")
    print("| :-- | --: | --: | --: |")
    clips: dict[str, list[Image.Image]] = {}
    for video in videos:
        try:
            frames = [load(io.BytesIO(jpeg)) for jpeg in sample_frames(str(video)).jpegs]
        except FrameExtractionError:
            continue
        if len(frames) >= 2:
            clips[video.stem] = frames
    with tempfile.TemporaryDirectory() as folder:
        for name, frames in clips.items():
            for number, frame in enumerate(frames[:-1]):
                frame.save(Path(folder) / f"{name}-{number:03d}.jpg", quality=95)
        index, _ = build_index(
            [BenchmarkSource("folder", media=folder, label="frames")], PerceptualHashEmbedder(), workers=1
        )
    matches = iter(index.match_images([frame for frames in clips.values() for frame in frames[1:]]))
    totals = [0, 0, 0]
    for name, frames in clips.items():
        pairs = len(frames) - 1
        found = sum(
            m is not None and m.score >= index.threshold and m.item_id.startswith(f"{name}-")
            for m in itertools.islice(matches, pairs)
        )
        features = [extract(frame) for frame in frames]
        verified = sum(
            best_inliers(following, (frame,), rules) >= rules.min_inliers
            for frame, following in itertools.pairwise(features)
        )
        print(f"| {name} | {pairs} | {found} ({found / pairs:.2f}) | {verified} ({verified / pairs:.2f}) |")
        totals = [totals[0] + pairs, totals[1] + found, totals[2] + verified]
    pairs, found, verified = totals
    print(f"| all | {pairs} | {found} ({found / pairs:.2f}) | {verified} ({verified / pairs:.2f}) |")


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
    part_a(args)
    part_b(args)
    part_c(args)
    part_d(args)
    part_e(args)


if __name__ == "__main__":
    main()
