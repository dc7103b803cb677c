"""`trainer generate --checkpoint DIR --image a.jpg --prompt "<image>Output:"`: what a trained model
says about images (or videos) in an interleaved prompt, for trying a checkpoint by hand."""

from __future__ import annotations

import argparse
import sys


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "generate",
        help="continue an interleaved prompt about images or videos",
        description="Continues a prompt with one <image> per --image/--video (in order) and prints the text up "
        "to <EOC>.",
    )
    parser.add_argument("--checkpoint", required=True, help="a checkpoint file or folder (its newest step is used)")
    parser.add_argument("--prompt", required=True, help='e.g. "<image>Output:" or "<image>Question: ... Short answer:"')
    parser.add_argument("--image", action="append", default=[], help="an image file; repeat for several")
    parser.add_argument("--video", action="append", default=[], help="a video file (frames at 1 FPS); repeatable")
    parser.add_argument("--max_new_tokens", type=int, default=20)
    parser.add_argument("--beams", type=int, default=3, help="beam search width; 1: greedy")
    parser.add_argument("--length_penalty", type=float, default=1.0)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from trainer.config import ConfigError
    from trainer.evaluation.inference import Prompt, generate
    from trainer.evaluation.loading import load_model
    from trainer.evaluation.media import BadMedia, MediaCache

    if args.image and args.video:
        print("trainer generate: give images or videos, not both (a batch holds one kind)", file=sys.stderr)
        return 2
    try:
        loaded = load_model(args.checkpoint, args.device)
        media = MediaCache(loaded.images, loaded.frames)
        pixels = [media(path) for path in args.image] + [media(path, "video") for path in args.video]
        text = generate(loaded, [Prompt(args.prompt, pixels)], args.max_new_tokens, args.beams, args.length_penalty)[0]
    except (BadMedia, ConfigError, FileNotFoundError, ValueError) as error:
        print(f"trainer generate: {error}", file=sys.stderr)
        return 2
    print(text)
    return 0
