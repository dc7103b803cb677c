"""Pixels of a benchmark's images and videos, as the trainer saw its training media: an image is
scaled and padded as in training (`load_image`), a video is sampled at 1 FPS with ffmpeg as the video
DAG samples it, then `frames` frames are taken evenly over it."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from dedup.video_frames import FrameExtractionError, FrameRules, sample_frames
from trainer.data.images import BadImage, ImageSettings, load_image

MAX_SECONDS = 600  # of a video, sampled at 1 FPS: benchmark clips are well under a minute


class BadMedia(ValueError):
    """A benchmark file that cannot serve as input; the message says which and why."""


class MediaCache:
    """path -> uint8 [T, 3, S, S] (T = 1 for an image), decoded on first use; the `capacity` most
    recently used are kept (demonstrations recur across queries and shot counts)."""

    def __init__(self, settings: ImageSettings, frames: int, capacity: int = 4096) -> None:
        self.settings, self.frames, self.capacity = settings, frames, capacity
        self._pixels: OrderedDict[str, torch.Tensor] = OrderedDict()

    def __call__(self, path: str, media: str = "image") -> torch.Tensor:
        if path in self._pixels:
            self._pixels.move_to_end(path)
            return self._pixels[path]
        pixels = self._video(path) if media == "video" else self._image(path)
        self._pixels[path] = pixels
        if len(self._pixels) > self.capacity:
            self._pixels.popitem(last=False)
        return pixels

    def _image(self, path: str) -> torch.Tensor:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise BadMedia(f"{path}: {error.strerror or error}") from error
        try:
            return torch.from_numpy(load_image(data, self.settings)).unsqueeze(0)
        except BadImage as error:
            raise BadMedia(f"{path}: {error}") from error

    def _video(self, path: str) -> torch.Tensor:
        if not Path(path).is_file():
            raise BadMedia(f"{path}: no such video file")
        try:
            jpegs = sample_frames(path, FrameRules(max_frames=MAX_SECONDS, max_side=self.settings.size)).jpegs
            # exactly `frames`, evenly spread (a short clip repeats some), so a batch stacks
            chosen = np.linspace(0, len(jpegs) - 1, num=self.frames).round().astype(int)
            return torch.stack([torch.from_numpy(load_image(jpegs[i], self.settings)) for i in chosen])
        except (FrameExtractionError, BadImage) as error:
            raise BadMedia(f"{path}: {error}") from error
