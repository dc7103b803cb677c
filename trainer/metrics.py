"""Per-step metrics: a JSON line each to `metrics.jsonl`, TensorBoard scalars, a progress bar. Rank 0 only."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tqdm import tqdm


class MetricsLogger:
    def __init__(self, folder: str, tensorboard: bool, progress: bool, total_steps: int, first_step: int) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "metrics.jsonl"
        # A resumed run keeps the steps up to its checkpoint and replaces what the interrupted run logged after it.
        kept = [r for r in read_metrics(path) if r["step"] <= first_step] if path.exists() else []
        self._jsonl = path.open("w")
        for record in kept:
            self._jsonl.write(json.dumps(record, sort_keys=True) + "\n")
        self._board = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # imports TensorBoard only when it is wanted

            self._board = SummaryWriter(str(self.folder / "tensorboard"))
        self._bar = tqdm(total=total_steps, initial=first_step, unit="step", dynamic_ncols=True) if progress else None

    def log(self, step: int, metrics: dict[str, float | int | None]) -> None:
        self._jsonl.write(json.dumps({"step": step, **metrics}, sort_keys=True) + "\n")
        self._jsonl.flush()
        if self._board is not None:
            for name, value in metrics.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    self._board.add_scalar(name, value, step)
        if self._bar is not None:
            losses = {
                k.removeprefix("loss/"): f"{v:.3f}"
                for k, v in metrics.items()
                if k.startswith("loss/") and v is not None
            }
            self._bar.set_postfix(losses, refresh=False)

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        self._jsonl.close()
        if self._board is not None:
            self._board.close()
        if self._bar is not None:
            self._bar.close()


def read_metrics(path: str | Path) -> list[dict]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def loss_table(records: list[dict], rows: int = 8) -> str:
    """The per-dataset loss at up to `rows` evenly spaced logged steps, as a markdown table."""
    datasets = sorted({k.removeprefix("loss/") for r in records for k in r if k.startswith("loss/")} - {"weighted"})
    if not records or not datasets:
        return ""
    count = min(rows, len(records))
    picked = sorted({round(i * (len(records) - 1) / max(count - 1, 1)) for i in range(count)})
    lines = ["| step | " + " | ".join(datasets) + " |", "| ---: |" + " ---: |" * len(datasets)]
    for index in picked:
        record = records[index]
        cells = [f"{record[f'loss/{d}']:.3f}" if record.get(f"loss/{d}") is not None else "-" for d in datasets]
        lines.append(f"| {record['step']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
