"""One dataset as an endless stream of batches, read with webdataset in DataLoader workers, and its
position, so that a resumed run continues exactly where it stopped.

Each (rank, worker) pair reads its own sample stream: shards resampled at random with a seed of its
own (`resample`, webdataset's `ResampledShards`), or each epoch's shuffled shard list split over all
ranks and workers; samples are shuffled in a buffer. Everything random is seeded from (seed, rank,
worker) and, per sample, from its number in that stream, so the stream is a pure function of those.

Worker w of W makes batches number w, w + W, w + 2W, ...; the trainer takes them in number order. A
position is the next batch number and, per worker, how many samples it had read when it made the
last batch taken. Resuming, each worker skips that many samples (tar reading only, no decoding) and
starts at its first batch number not yet taken.
"""

from __future__ import annotations

import functools
import logging
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count

import numpy as np
import torch
import webdataset as wds
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from schemas.version import UnsupportedFormatVersion
from trainer.data.batch import Batch, collate
from trainer.data.examples import ExampleBuilder, OtherKind
from trainer.data.images import BadImage
from trainer.data.sources import DatasetError, ShardSource, webdataset_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    batch_size: int
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    resample: bool = True  # endless random shards; False: epochs over the shard list, split by rank and worker
    shuffle_buffer: int = 1000  # samples
    max_skipped_in_row: int = 10_000  # bad samples or broken shards in a row before the dataset is declared unusable


@dataclass
class StreamPosition:
    workers: int
    next_index: int = 0
    consumed: dict[int, int] = field(default_factory=dict)  # worker -> samples read up to its last batch taken
    skipped: Counter = field(default_factory=Counter)  # samples skipped so far, by reason

    def state_dict(self) -> dict:
        return {
            "workers": self.workers,
            "next_index": self.next_index,
            "consumed": dict(self.consumed),
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> StreamPosition:
        consumed = {int(k): int(v) for k, v in state["consumed"].items()}
        return cls(state["workers"], state["next_index"], consumed, Counter(state["skipped"]))


class ShardStream(IterableDataset):
    def __init__(
        self,
        source: ShardSource,
        builder: ExampleBuilder,
        settings: StreamSettings,
        start: StreamPosition,
    ) -> None:
        super().__init__()
        self.source, self.builder, self.settings = source, builder, settings
        self.start = start

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        if workers != self.start.workers:
            raise DatasetError(
                f"{self.source.dataset}: the position was taken with {self.start.workers} workers, not {workers}"
            )
        stream = self.settings.rank * workers + worker
        streams = self.settings.world_size * workers
        skipped: Counter = Counter()
        in_row = [0]

        urls = {webdataset_url(url) for url in self.source.urls}

        def broken_shard(error: Exception) -> bool:
            # webdataset reports a member it cannot read, then (from its shard loop, with the URL appended
            # to the error) the shard it cannot go on reading: two reasons, one count each.
            whole_shard = bool(error.args) and error.args[-1] in urls
            skipped["broken_shard" if whole_shard else "broken_member"] += 1
            in_row[0] += whole_shard
            log.warning(
                "%s: skipping a broken %s: %s", self.source.dataset, "shard" if whole_shard else "member", error
            )
            return in_row[0] <= self.settings.max_skipped_in_row

        samples = wds.tarfile_to_samples(handler=broken_shard)(self._shards(stream, streams))
        if self.settings.shuffle_buffer > 1:
            buffer = self.settings.shuffle_buffer
            samples = wds.shuffle(buffer, min(100, buffer), rng=random.Random(_seed(self.settings.seed, stream, -1)))(
                samples
            )
        read = self.start.consumed.get(worker, 0)
        for _ in zip(range(read), samples, strict=False):  # resuming: read past what was taken, decode nothing
            pass
        index = self.start.next_index + (worker - self.start.next_index) % workers
        examples = []
        for sample in samples:
            read += 1
            rng = np.random.default_rng([self.settings.seed, stream, read])
            try:
                examples.append(self.builder(sample, rng))
                in_row[0] = 0
            except OtherKind:
                continue
            except ValueError as error:  # InvalidSample, UnsupportedFormatVersion, BadImage and the like
                skipped[_reason(error)] += 1
                in_row[0] += 1
                log.warning("%s: skipping a sample: %s", self.source.dataset, error)
                if in_row[0] > self.settings.max_skipped_in_row:
                    break
                continue
            if len(examples) == self.settings.batch_size:
                tokenizer = self.builder.tokenizer
                batch = collate(examples, self.source.dataset, tokenizer.pad_id, tokenizer.image_id)
                batch.index, batch.worker, batch.position, batch.skipped = index, worker, read, dict(skipped)
                yield batch
                index += workers
                examples, skipped = [], Counter()
        raise DatasetError(
            f"{self.source.dataset}: no usable samples left in {len(self.source.urls)} shard(s) "
            f"({dict(skipped) or 'none read'}; {in_row[0]} skipped in a row)"
        )

    def _shards(self, stream: int, streams: int):
        urls = [webdataset_url(url) for url in self.source.urls]
        if self.settings.resample:
            return iter(
                wds.ResampledShards(
                    urls, seed=self.settings.seed, worker_seed=functools.partial(int, stream), deterministic=True
                )
            )
        if len(urls) < streams:
            raise DatasetError(
                f"{self.source.dataset}: {len(urls)} shard(s) cannot be split over {streams} ranks x workers without "
                "resampling; set resample, or use fewer workers"
            )
        return _epochs(urls, self.settings.seed, stream, streams)


def _epochs(urls: list[str], seed: int, stream: int, streams: int) -> Iterator[dict]:
    for epoch in count():
        order = list(urls)
        random.Random(_seed(seed, epoch)).shuffle(order)
        for url in order[stream::streams]:
            yield {"url": url}


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([p % 2**32 for p in parts]).generate_state(1)[0])


def _reason(error: Exception) -> str:
    if isinstance(error, BadImage):
        return "bad_image"
    if isinstance(error, UnsupportedFormatVersion):
        return "unsupported_format_version"
    return "invalid_sample"


class DatasetLoader:
    """A dataset's batches in stream order, from a DataLoader over its `ShardStream`; tracks its position."""

    def __init__(
        self,
        source: ShardSource,
        builder: ExampleBuilder,
        settings: StreamSettings,
        workers: int,
        position: StreamPosition | None = None,
        pin_memory: bool = False,
    ) -> None:
        self.dataset = source.dataset
        if workers > 0:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # a Hugging Face tokenizer in forked workers
        self.position = position or StreamPosition(workers=max(workers, 1))
        start = StreamPosition.from_state_dict(self.position.state_dict())  # the stream's own copy: this one moves
        stream = ShardStream(source, builder, settings, start)
        self._loader = DataLoader(
            stream,
            batch_size=None,
            num_workers=workers,
            pin_memory=pin_memory,
            persistent_workers=workers > 0,
            prefetch_factor=4 if workers > 0 else None,
            worker_init_fn=_one_thread if workers > 0 else None,
        )
        self._iterator: Iterator[Batch] | None = None
        self._pending: dict[int, Batch] = {}
        self._closed = False

    def __iter__(self) -> DatasetLoader:
        return self

    def close(self) -> None:
        """Stop the workers (they would otherwise live until the loader is garbage-collected)."""
        self._iterator = None
        self._pending.clear()
        self._closed = True

    def __next__(self) -> Batch:
        if self._iterator is None:
            if self._closed:
                raise RuntimeError(f"{self.dataset}: the loader is closed")
            self._iterator = iter(self._loader)
        while self.position.next_index not in self._pending:
            batch = next(self._iterator)
            self._pending[batch.index] = batch
        batch = self._pending.pop(self.position.next_index)
        self.position.next_index += 1
        self.position.consumed[batch.worker] = batch.position
        self.position.skipped.update(batch.skipped)
        return batch


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)  # workers decode; the main process computes
