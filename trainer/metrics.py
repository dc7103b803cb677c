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
        self._jsonl = (self.folder / "metrics.jsonl").open("a")
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
