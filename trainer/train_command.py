"""`trainer train --config run.yaml [--set key.path=value ...] [--resume]`: train Flamingo on curated shards.

Under torchrun every process runs this command; each joins the process group and reads its own part
of every dataset stream.
"""

from __future__ import annotations

import argparse
import logging
import sys

from trainer.config import ConfigError, load_config
from trainer.metrics import loss_table, read_metrics


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "train",
        help="train Flamingo on curated shards",
        description="Trains the Flamingo model described by a YAML run file on the shards that `curate` wrote: "
        "one stream per dataset (m3w, align, ltip, vtp), every step a weighted sum of their losses. "
        "Start it with torchrun for several GPUs or processes.",
    )
    parser.add_argument("--config", required=True, help="the YAML run file")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override an entry"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in checkpoint.dir")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config, args.overrides)
    except ConfigError as error:
        print(f"trainer train: {error}", file=sys.stderr)
        return 2
    # Imported once the run file is known to be good: these pull in PyTorch, open_clip and webdataset.
    from trainer.data.sources import DatasetError
    from trainer.distributed import start_processes, stop_processes
    from trainer.train import NonFiniteLoss, Trainer

    try:
        processes = start_processes(config.train.device)
    except RuntimeError as error:
        print(f"trainer train: {error}", file=sys.stderr)
        return 2
    try:
        trainer = Trainer(config, processes, resume=args.resume)
        trainer.fit()
    except (ConfigError, DatasetError) as error:
        print(f"trainer train: {error}", file=sys.stderr)
        return 2
    except NonFiniteLoss as error:
        print(f"trainer train: stopped: {error}", file=sys.stderr)
        return 1
    finally:
        stop_processes()
    if processes.main:
        metrics = f"{config.log.dir}/metrics.jsonl"
        print(f"trainer train: {trainer.step} steps done; loss per target token, per dataset ({metrics}):")
        print(loss_table(read_metrics(metrics)))
    return 0
