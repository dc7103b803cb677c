"""Beam pipeline options, and the embedded default runner."""

from __future__ import annotations

import argparse
import logging
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.job.utils import dict_to_struct
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo


def pipeline_options(beam_args: list[str]) -> PipelineOptions:
    """Options from Beam-style flags; with no --runner, the in-process runner on every core."""
    args = _joined(beam_args)
    flags = dict(arg.split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)
    runner = flags.get("--runner")
    if runner is None:
        args.append(f"--direct_running_mode={flags.get('--direct_running_mode', 'multi_processing')}")
        args.append(f"--direct_num_workers={flags.get('--direct_num_workers', os.cpu_count() or 1)}")
    return PipelineOptions(args)


def new_pipeline(beam_args: list[str]) -> beam.Pipeline:
    """A pipeline on the runner the flags name, or on the embedded default.

    The default is the FnApiRunner, named outright because the DirectRunner first tries to
    download the Prism runner, which cannot work offline. Its worker processes get our log level
    through the provision info, which the FnApiRunner otherwise leaves empty (they would log INFO).
    """
    options = pipeline_options(beam_args)
    if options.view_as(StandardOptions).runner is not None:
        return beam.Pipeline(options=options)
    level = "INFO" if logging.getLogger().getEffectiveLevel() <= logging.INFO else "ERROR"
    info = beam_provision_api_pb2.ProvisionInfo(
        retrieval_token="unused-retrieval-token",
        pipeline_options=dict_to_struct({"default_sdk_harness_log_level": level}),
    )
    return beam.Pipeline(runner=FnApiRunner(provision_info=ExtendedProvisionInfo(info)), options=options)


def _joined(args: list[str]) -> list[str]:
    """`--flag value` pairs written as `--flag=value`, so each flag is one item."""
    out: list[str] = []
    for arg in args:
        if out and out[-1].startswith("--") and "=" not in out[-1] and not arg.startswith("--"):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def check_beam_flags(beam_args: list[str]) -> None:
    """A flag that neither the subcommand nor any Beam pipeline option knows is a typo (`--shard_sampels`):
    an error naming it, where Beam would only warn and run on the defaults."""
    parser = argparse.ArgumentParser(allow_abbrev=False, add_help=False)
    for options_class in _subclasses(PipelineOptions):
        options_class._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(_joined(beam_args))
    if unknown:
        raise ValueError(f"unrecognised arguments: {' '.join(unknown)} (neither this command's nor Beam's)")


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return list(dict.fromkeys(found))


def refuse_beam_flags(beam_args: list[str]) -> None:
    """For the subcommands that run no pipeline: a flag they do not know is a mistake, not a Beam option."""
    if beam_args:
        raise ValueError(f"unrecognised arguments: {' '.join(beam_args)}")
