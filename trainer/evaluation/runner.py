"""Few-shot evaluation of one task at several shot counts, as the paper evaluates (appendix B.1):
each query gets k demonstrations from the support set (random, or RICES), open-ended tasks are
decoded with beam search and scored by their metric, close-ended ones rank each class's text by
log-likelihood."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from dedup.benchmarks import BenchmarkExample
from trainer.evaluation import inference
from trainer.evaluation.captioning import cider_d
from trainer.evaluation.classification import accuracy, roc_auc
from trainer.evaluation.demonstrations import random_demonstrations, rices_demonstrations
from trainer.evaluation.inference import Prompt
from trainer.evaluation.loading import LoadedModel
from trainer.evaluation.media import BadMedia, MediaCache
from trainer.evaluation.prompts import few_shot_prompt
from trainer.evaluation.tasks import Task
from trainer.evaluation.vqa_accuracy import exact_match_accuracy, mean_vqa_accuracy

TEXT_ONLY_DEMONSTRATIONS = 2  # the paper's zero-shot prompts


@dataclass
class Settings:
    shots: Sequence[int] = (0, 4, 32)
    rices: bool = False
    limit: int | None = None  # queries, at most
    batch_size: int = 8
    beams: int = 3
    length_penalty: float = 1.0
    max_new_tokens: int | None = None  # None: the task's
    seed: int = 0
    progress: bool = True


@dataclass
class ShotResult:
    shots: int
    metric: str
    value: float | None
    queries: int
    extra: dict[str, float] = field(default_factory=dict)  # other metrics of the same predictions
    predictions: list[dict] = field(default_factory=list)  # per query: id and what the model answered


def evaluate(loaded: LoadedModel, task: Task, settings: Settings) -> tuple[list[ShotResult], Counter]:
    """-> the result at each shot count, and the examples left out with their reasons (task and media)."""
    media = MediaCache(loaded.images, loaded.frames)
    skipped = Counter(task.rejected)
    queries = _loadable(task.queries[: settings.limit] if settings.limit else task.queries, media, skipped)
    if not queries:
        raise ValueError(f"task {task.name}: no query left to evaluate ({dict(skipped)})")
    own = _own_items(queries, task.support)
    usable = len(task.support) - max(len(indices) for indices in own)
    if max(settings.shots) > usable:
        raise ValueError(
            f"task {task.name}: {max(settings.shots)} shots need as many support examples besides a query's own "
            f"image; the support set ({', '.join(task.support_splits)}) has {usable}"
        )
    bad_support: set[int] = set()
    features = _rices_features(loaded, queries, task.support, media, bad_support) if settings.rices else None
    results = []
    for shots in settings.shots:
        chosen = _demonstrations(task, queries, shots, own, bad_support, media, features, settings)
        results.append(_run(loaded, task, queries, chosen, shots, media, settings))
    skipped.update({"support media unreadable": len(bad_support)} if bad_support else {})
    return results, skipped


def _loadable(examples: list[BenchmarkExample], media: MediaCache, skipped: Counter) -> list[BenchmarkExample]:
    kept = []
    for example in examples:
        try:
            media(example.path, example.media)
            kept.append(example)
        except BadMedia:
            skipped["query media unreadable"] += 1
    return kept


def _own_items(queries: list[BenchmarkExample], support: list[BenchmarkExample]) -> list[set[int]]:
    """For each query, the support examples of its own image or video: never its demonstrations."""
    by_item = defaultdict(set)
    for index, example in enumerate(support):
        by_item[(example.benchmark, example.item_id)].add(index)
    return [by_item.get((query.benchmark, query.item_id), set()) for query in queries]


def _rices_features(loaded, queries, support, media: MediaCache, bad_support: set[int], chunk: int = 64):
    """(query features, support features): the support decoded a chunk at a time, never all held at once."""
    support_features = np.zeros((len(support), loaded.model.vision.width), dtype=np.float32)
    for start in range(0, len(support), chunk):
        indices, pixels = [], []
        for index in range(start, min(start + chunk, len(support))):
            try:
                pixels.append(media(support[index].path, support[index].media))
                indices.append(index)
            except BadMedia:
                bad_support.add(index)
        if pixels:
            support_features[indices] = inference.image_features(loaded, pixels)
    query_features = inference.image_features(loaded, [media(q.path, q.media) for q in queries])
    return query_features, support_features


def _demonstrations(task, queries, shots, own, bad_support, media, features, settings) -> np.ndarray:
    """[queries, k] support indices: k = shots, or the text-only pair of a zero-shot open-ended prompt.
    Support media that fail to decode are excluded and the draw is made again without them."""
    while True:
        excluded = [indices | bad_support for indices in own]
        usable = len(task.support) - max(len(indices) for indices in excluded)
        text_only = TEXT_ONLY_DEMONSTRATIONS if task.format.text_only_zero_shot else 0
        count = shots or min(text_only, usable)
        if settings.rices and shots:
            chosen = rices_demonstrations(features[0], features[1], count, excluded)
        else:
            chosen = random_demonstrations(len(queries), len(task.support), count, settings.seed, excluded)
        if not shots:
            return chosen  # text-only: no media to read
        failed = set()
        for index in set(chosen.ravel().tolist()) - bad_support:
            example = task.support[index]
            try:
                media(example.path, example.media)
            except BadMedia:
                failed.add(index)
        if not failed:
            return chosen
        bad_support |= failed


def _run(loaded, task: Task, queries, chosen: np.ndarray, shots: int, media: MediaCache, settings) -> ShotResult:
    prompts = []
    for query, row in zip(queries, chosen, strict=True):
        demonstrations = [task.support[i] for i in row.tolist()]
        text = few_shot_prompt(
            [task.demonstration(d, with_image=bool(shots)) for d in demonstrations], task.query(query)
        )
        shown = demonstrations if shots else []
        prompts.append(Prompt(text, [media(e.path, e.media) for e in [*shown, query]]))
    kind = task.format.kind
    answers: list = []
    bar = tqdm(total=len(prompts), desc=f"{task.name} {shots}-shot", unit="query", disable=not settings.progress)
    for start in range(0, len(prompts), settings.batch_size):
        batch = prompts[start : start + settings.batch_size]
        if kind == "classification":
            classes = [query.classes for query in queries[start : start + settings.batch_size]]
            answers.extend(inference.continuation_log_likelihoods(loaded, batch, classes))
        else:
            tokens = settings.max_new_tokens or task.format.max_new_tokens
            answers.extend(inference.generate(loaded, batch, tokens, settings.beams, settings.length_penalty))
        bar.update(len(batch))
    bar.close()
    return _score(task, queries, answers, shots)


def _score(task: Task, queries: list[BenchmarkExample], answers: list, shots: int) -> ShotResult:
    metric = task.format.metric
    ids = [query.example_id for query in queries]
    if task.format.kind == "classification":
        predicted = [int(np.argmax(scores)) for scores in answers]
        labels = [int(query.label) for query in queries]
        predictions = [
            {"id": i, "predicted": q.classes[p], "log_likelihoods": s}
            for i, q, p, s in zip(ids, queries, predicted, answers, strict=True)
        ]
        extra = {}
        value = accuracy(predicted, labels)
        if metric == "roc_auc":
            positive = [float(torch.softmax(torch.tensor(s), dim=0)[1]) for s in answers]
            extra["accuracy"] = value
            value = roc_auc(positive, labels) if 0 < sum(labels) < len(labels) else None  # one class only
        return ShotResult(shots, metric, value, len(queries), extra, predictions)
    predictions = [{"id": i, "output": answer} for i, answer in zip(ids, answers, strict=True)]
    scorer: Callable = {
        "cider": lambda: cider_d(answers, [q.captions for q in queries]),
        "vqa_accuracy": lambda: mean_vqa_accuracy(answers, [q.answers for q in queries]),
        "accuracy": lambda: exact_match_accuracy(answers, [q.answers for q in queries]),
    }[metric]
    return ShotResult(shots, metric, scorer(), len(queries), {}, predictions)
