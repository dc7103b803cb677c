"""The benchmark index: FAISS over the embeddings of every benchmark image view, a sidecar table
mapping index rows to (benchmark, split, item, view), and the embedder settings that made it.

On disk, one folder:
    index.faiss   the FAISS index (binary for hash codes, inner product for float vectors)
    rows.parquet  row i of the index -> benchmark, split, item_id, view, path, sha256 of the file
    index.json    format version, embedder spec, index type, counts, calibrated thresholds
    features.*    local features and a thumbnail of every image and frame (dedup/feature_store.py),
                  when index.json has "local_features"
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from dedup.embedders import Embedder, embedder_from_spec
from dedup.feature_store import BenchmarkFeatures, frame_of_view
from dedup.local_features import LocalFeatureRules
from schemas.version import FORMAT_VERSION, check_format_version

INDEX_FILE = "index.faiss"
ROWS_FILE = "rows.parquet"
META_FILE = "index.json"
INDEX_TYPES: tuple[str, ...] = ("auto", "flat", "ivf", "hnsw")
# Exact search stays fast far longer for 256-bit codes (a popcount per row) than for float vectors.
EXACT_LIMIT = {True: 5_000_000, False: 200_000}
ROWS_SCHEMA = pa.schema(
    [
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("view", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),  # of the file's bytes: exact copies need no search
    ]
)

Opener = Callable[[str], IO[bytes]]


@dataclass(frozen=True)
class Match:
    score: float
    benchmark: str
    split: str
    item_id: str
    view: str

    @property
    def label(self) -> str:
        return f"{self.benchmark}/{self.split}/{self.item_id}"


class BenchmarkIndex:
    def __init__(
        self,
        embedder: Embedder,
        index: Any,
        rows: pa.Table,
        meta: dict[str, Any],
        features: BenchmarkFeatures | None = None,
    ) -> None:
        if index.ntotal != rows.num_rows:
            raise ValueError(f"index has {index.ntotal} vectors but its row table has {rows.num_rows} rows")
        self.embedder = embedder
        self.index = index
        self.rows = rows
        self.meta = meta
        self.features = features
        self._columns = {name: rows.column(name).to_pylist() for name in ("benchmark", "split", "item_id", "view")}
        self._row_by_sha256 = {sha: row for row, sha in reversed(list(enumerate(rows.column("sha256").to_pylist())))}
        self._feature_set_of_row = self._feature_sets_of_rows() if features is not None else None

    def _feature_sets_of_rows(self) -> np.ndarray:
        columns = self._columns
        keys = zip(
            columns["benchmark"], columns["split"], columns["item_id"], map(frame_of_view, columns["view"]), strict=True
        )
        numbers = (self.features.number(key) for key in keys)
        return np.array([-1 if number is None else number for number in numbers], dtype=np.int64)

    def feature_set_of(self, match: Match) -> int | None:
        """The feature set of a match's image or frame; None without local features."""
        if self.features is None:
            return None
        return self.features.number((match.benchmark, match.split, match.item_id, frame_of_view(match.view)))

    def feature_set(self, row: int) -> int | None:
        """The feature set (image or frame) an index row is a view of; None without local features."""
        if self._feature_set_of_row is None or row < 0:
            return None
        number = int(self._feature_set_of_row[row])
        return None if number < 0 else number

    @classmethod
    def build(
        cls,
        embedder: Embedder,
        vectors: np.ndarray,
        rows: pa.Table,
        index_type: str = "auto",
        meta: dict[str, Any] | None = None,
        features: BenchmarkFeatures | None = None,
    ) -> BenchmarkIndex:
        chosen = choose_index_type(len(vectors), embedder.binary) if index_type == "auto" else index_type
        index = _new_index(chosen, embedder, len(vectors))
        if not index.is_trained:
            index.train(_training_sample(vectors))
        if len(vectors):
            index.add(vectors)
        return cls(embedder, index, rows, {**(meta or {}), "index_type": chosen}, features)

    @property
    def threshold(self) -> float:
        """The score at which a match is a copy without verification: the calibrated one saved with
        the index, else the embedder's default."""
        return self.meta.get("threshold") or self.embedder.default_threshold

    @property
    def candidate_threshold(self) -> float:
        """The score at which a match is verified with local features (when the index has them): the
        calibrated one, else the embedder's default; never above `threshold`."""
        candidate = self.meta.get("candidate_threshold") or self.embedder.default_candidate_threshold
        return min(candidate or self.threshold, self.threshold)

    @property
    def min_inliers(self) -> int:
        """The inliers at which verification declares a copy: the calibrated count, else the rule's."""
        return int(self.meta.get("min_inliers") or LocalFeatureRules().min_inliers)

    def search(self, vectors: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """-> (scores [n, k] in [0, 1], row numbers [n, k], -1 where fewer than k rows exist)."""
        if self.index.ntotal == 0 or len(vectors) == 0:
            return np.zeros((len(vectors), k), np.float32), np.full((len(vectors), k), -1, np.int64)
        distances, rows = self.index.search(vectors, k)
        scores = self.embedder.similarity(distances)
        scores[rows < 0] = 0.0
        return scores, rows

    def best_matches(self, vectors: np.ndarray) -> list[Match | None]:
        scores, rows = self.search(vectors, k=1)
        return [self.match_row(float(score), int(row)) for score, row in zip(scores[:, 0], rows[:, 0], strict=True)]

    def match_images(self, images: Sequence[Image.Image]) -> list[Match | None]:
        return self.best_matches(self.embedder.embed(images))

    def match_exact(self, sha256: str) -> Match | None:
        """A byte-identical copy of a benchmark file, found by the sha256 of its bytes (score 1)."""
        row = self._row_by_sha256.get(sha256)
        return None if row is None else self.match_row(1.0, row)

    def match_row(self, score: float, row: int) -> Match | None:
        if row < 0:
            return None
        columns = self._columns
        return Match(
            score, columns["benchmark"][row], columns["split"][row], columns["item_id"][row], columns["view"][row]
        )

    def info(self) -> dict[str, Any]:
        """index.json: the meta, less "local_features" when the features are not there."""
        meta = self.meta if self.features is not None else {k: v for k, v in self.meta.items() if k != "local_features"}
        return {**meta, "rows": self.index.ntotal, "embedder": self.embedder.spec()}

    def save(self, directory: str, open_file: Opener | None = None) -> None:
        """Write the three files; `open_file(path)` gives a writable binary file (default: local)."""
        create = open_file or _local_writer(directory)
        serialise = faiss.serialize_index_binary if self.embedder.binary else faiss.serialize_index
        with create(_join(directory, INDEX_FILE)) as out:
            out.write(serialise(self.index).tobytes())
        buffer = io.BytesIO()
        pq.write_table(self.rows, buffer)
        with create(_join(directory, ROWS_FILE)) as out:
            out.write(buffer.getvalue())
        if self.features is not None:
            self.features.save(directory, create)
        with create(_join(directory, META_FILE)) as out:  # last: a folder with index.json is complete
            out.write(json.dumps(self.info(), indent=2, sort_keys=True).encode("utf-8"))

    @classmethod
    def load(cls, directory: str, open_file: Opener | None = None) -> BenchmarkIndex:
        """Read an index folder; `open_file(path)` gives a readable binary file (default: local)."""
        read = open_file or _local_reader
        meta = read_meta(directory, read)
        embedder = embedder_from_spec(meta["embedder"])
        raw = np.frombuffer(_read_bytes(read, _join(directory, INDEX_FILE)), dtype=np.uint8)
        index = faiss.deserialize_index_binary(raw) if embedder.binary else faiss.deserialize_index(raw)
        _tune_search(index)
        rows = pq.read_table(io.BytesIO(_read_bytes(read, _join(directory, ROWS_FILE))))
        meta = {key: value for key, value in meta.items() if key not in ("rows", "embedder")}
        features = BenchmarkFeatures.load(directory, read) if "local_features" in meta else None
        return cls(embedder, index, rows, meta, features)


def read_meta(directory: str, open_file: Opener | None = None) -> dict[str, Any]:
    """An index folder's index.json, its format version checked; the index itself is not read."""
    try:
        meta = json.loads(_read_bytes(open_file or _local_reader, _join(directory, META_FILE)))
    except FileNotFoundError:
        raise FileNotFoundError(f"{directory!r} is not a benchmark index: it has no {META_FILE}") from None
    check_format_version(meta.get("format_version"), f"benchmark index {directory}")
    return meta


def check_index_files(directory: str, open_file: Opener | None = None) -> dict[str, Any]:
    """Check, without reading the index itself, that index.json, the header of index.faiss and the
    footer of rows.parquet agree (embedder kind and width, row counts): a mismatch found at launch
    instead of on a worker. Returns index.json; raises ValueError naming the disagreement."""
    read = open_file or _local_reader
    meta = read_meta(directory, read)
    embedder = embedder_from_spec(meta["embedder"])
    index_path, rows_path = _join(directory, INDEX_FILE), _join(directory, ROWS_FILE)
    try:
        with read(index_path) as handle:
            binary, dim, vectors = _faiss_header(handle.read(20), index_path)
        with read(rows_path) as handle:
            rows = pq.ParquetFile(handle).metadata.num_rows
    except FileNotFoundError as error:
        raise FileNotFoundError(f"benchmark index {directory!r} lacks a file: {error}") from None
    except pa.ArrowException as error:
        raise ValueError(f"{rows_path}: not a parquet file ({error})") from error
    kind = "binary codes" if binary else "float vectors"
    wanted = "binary codes" if embedder.binary else "float vectors"
    problems = []
    if (binary, dim) != (embedder.binary, embedder.dim):
        problems.append(f"{INDEX_FILE} holds {dim}-d {kind} but index.json's embedder makes {embedder.dim}-d {wanted}")
    if vectors != rows:
        problems.append(f"{INDEX_FILE} holds {vectors} rows but {ROWS_FILE} {rows}")
    if meta.get("rows") is not None and meta["rows"] != vectors:
        problems.append(f"index.json says {meta['rows']} rows but {INDEX_FILE} holds {vectors}")
    if problems:
        raise ValueError(f"benchmark index {directory!r} does not hang together: {'; '.join(problems)}")
    return meta


def _faiss_header(head: bytes, path: str) -> tuple[bool, int, int]:
    """(binary, dimension, rows) from the first bytes of a serialised FAISS index."""
    if len(head) < 20 or head[:1] != b"I":
        raise ValueError(f"{path}: not a FAISS index")
    binary = head[:2] == b"IB"
    dim = int(np.frombuffer(head[4:8], "<i4")[0])
    rows = int(np.frombuffer(head[12:20] if binary else head[8:16], "<i8")[0])
    return binary, dim, rows


def choose_index_type(rows: int, binary: bool) -> str:
    if rows <= EXACT_LIMIT[binary]:
        return "flat"
    return "ivf" if binary else "hnsw"


def new_meta(**fields: Any) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, **fields}


def _new_index(index_type: str, embedder: Embedder, rows: int) -> Any:
    dim, binary = embedder.dim, embedder.binary
    if index_type == "flat":
        return faiss.IndexBinaryFlat(dim) if binary else faiss.IndexFlatIP(dim)
    if index_type == "hnsw":
        index = faiss.IndexBinaryHNSW(dim, 32) if binary else faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        _tune_search(index)
        return index
    if index_type == "ivf":
        lists = max(1, min(65_536, int(4 * math.sqrt(max(rows, 1)))))
        if binary:
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(dim), dim, lists)
        else:
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        _tune_search(index)
        return index
    raise ValueError(f"unknown index type {index_type!r}: choose one of {', '.join(INDEX_TYPES)}")


def _tune_search(index: Any) -> None:
    """Recall-first search settings for the approximate index types (a miss lets a copy through)."""
    if hasattr(index, "nprobe"):
        index.nprobe = max(1, min(index.nlist, 32))
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = 128


def _training_sample(vectors: np.ndarray, size: int = 200_000) -> np.ndarray:
    if len(vectors) <= size:
        return vectors
    chosen = np.random.default_rng(0).choice(len(vectors), size, replace=False)
    return vectors[np.sort(chosen)]


def _join(directory: str, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}"


def _read_bytes(read: Opener, path: str) -> bytes:
    with read(path) as handle:
        return handle.read()


def _local_reader(path: str) -> IO[bytes]:
    return open(path, "rb")


def _local_writer(directory: str) -> Opener:
    import os

    os.makedirs(directory, exist_ok=True)
    return lambda path: open(path, "wb")
