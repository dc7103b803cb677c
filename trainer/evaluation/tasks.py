"""Evaluation tasks: each benchmark's examples read through the registry that decontamination uses,
split into the queries scored and the support set that demonstrations are drawn from, with the
prompt and metric the paper uses for its kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dedup.benchmarks import TASKS, BenchmarkExample, BenchmarkSource, load_examples
from trainer.evaluation import prompts

# The query split when none is asked for: the first of these the sources hold.
QUERY_SPLITS = ("test", "testdev", "val", "minival", "dev")
SUPPORT_SPLITS = ("train", "restval", "trainval")
VIDEO_QA = {"msrvtt_qa", "msvd_qa"}  # one answer per question: top-1 accuracy, as the paper reports


@dataclass(frozen=True)
class TaskFormat:
    kind: str  # captioning | vqa | classification
    metric: str  # cider | vqa_accuracy | accuracy | roc_auc
    max_new_tokens: int  # open-ended tasks
    text_only_zero_shot: bool  # zero-shot prompts open with two text-only demonstrations (open-ended tasks)


@dataclass
class Task:
    name: str
    format: TaskFormat
    queries: list[BenchmarkExample]
    support: list[BenchmarkExample]
    query_split: str
    support_splits: tuple[str, ...]
    rejected: Counter = field(default_factory=Counter)  # reason -> examples left out before the run

    def demonstration(self, example: BenchmarkExample, with_image: bool = True) -> str:
        return demonstration(self.format.kind, example, with_image)

    def query(self, example: BenchmarkExample) -> str:
        return query(self.format.kind, example)


def task_format(name: str) -> TaskFormat:
    kind = TASKS[name]
    if kind == "captioning":
        return TaskFormat(kind, "cider", max_new_tokens=20, text_only_zero_shot=True)
    if kind == "vqa":
        metric = "accuracy" if name in VIDEO_QA else "vqa_accuracy"
        return TaskFormat(kind, metric, max_new_tokens=5, text_only_zero_shot=True)
    metric = "roc_auc" if name == "hatefulmemes" else "accuracy"
    return TaskFormat(kind, metric, max_new_tokens=0, text_only_zero_shot=False)


def demonstration(kind: str, example: BenchmarkExample, with_image: bool = True) -> str:
    if kind == "captioning":
        return prompts.caption_demonstration(example.captions[0], with_image)
    if kind == "vqa":
        return prompts.vqa_demonstration(str(example.question), majority_answer(example.answers), with_image)
    return prompts.classification_demonstration(example.text, example.classes[example.label], with_image)


def query(kind: str, example: BenchmarkExample) -> str:
    if kind == "captioning":
        return prompts.caption_query()
    if kind == "vqa":
        return prompts.vqa_query(str(example.question))
    return prompts.classification_query(example.text)


def majority_answer(answers: Sequence[str]) -> str:
    """The answer most annotators gave (the first of those tied), as a demonstration shows it."""
    counts = Counter(answers)
    return max(answers, key=lambda answer: counts[answer])


def read_task(name: str, sources: Sequence[BenchmarkSource], split: str | None = None) -> Task:
    """The task's examples from every source of that benchmark (its name, or the label it is given); queries are `split` (default: the first
    of test, testdev, val, ... present), the support set is the training split, or, when the sources
    hold no other split, the query split itself (a query never sees its own image as a demonstration)."""
    chosen = [source for source in sources if source.benchmark == name]
    if not chosen:
        raise ValueError(f"no benchmark source for task {name!r}; give one with --benchmarks or --source")
    unevaluable = sorted({source.name for source in chosen} - set(TASKS))
    if unevaluable:
        raise ValueError(f"{unevaluable[0]} cannot be evaluated; evaluable: {', '.join(sorted(TASKS))}")
    if len({source.name for source in chosen}) > 1:
        raise ValueError(
            f"task {name!r}: its sources are of different benchmarks ({', '.join(s.name for s in chosen)})"
        )
    format = task_format(chosen[0].name)
    rejected: Counter = Counter()
    examples = []
    for source in chosen:
        for example in load_examples(source):
            reason = missing_reference(format.kind, example)
            if reason:
                rejected[reason] += 1
            else:
                examples.append(example)
    splits = sorted({example.split for example in examples})
    if not examples:
        raise ValueError(f"task {name!r}: no example has what its metric needs ({dict(rejected)})")
    query_split = split or next((s for s in QUERY_SPLITS if s in splits), splits[0])
    if query_split not in splits:
        raise ValueError(f"task {name!r}: no examples of split {query_split!r}; the sources hold {', '.join(splits)}")
    support_splits = tuple(s for s in SUPPORT_SPLITS if s in splits) or tuple(s for s in splits if s != query_split)
    support_splits = support_splits or (query_split,)
    return Task(
        name=name,
        format=format,
        queries=[e for e in examples if e.split == query_split],
        support=[e for e in examples if e.split in support_splits],
        query_split=query_split,
        support_splits=support_splits,
        rejected=rejected,
    )


def missing_reference(kind: str, example: BenchmarkExample) -> str | None:
    """Why an example cannot be scored (or shown as a demonstration), or None."""
    if kind == "captioning" and not example.captions:
        return "no reference captions"
    if kind == "vqa" and (not example.answers or example.question is None):
        return "no question or answers"
    if kind == "classification" and example.label is None:
        return "no label"
    return None
