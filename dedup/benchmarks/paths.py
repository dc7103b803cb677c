"""Where a benchmark's image or video lies in its media folder."""

from __future__ import annotations

from pathlib import Path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov")


def media_file(media: str, relative: str) -> str:
    return str(Path(media) / relative)


def locate(media: str, *candidates: str) -> str:
    """The first candidate (relative to `media`) that exists, else the first: the native layout.

    Later candidates cover the common flattened copies, e.g. COCO images without their `val2014/`.
    """
    found = (media_file(media, candidate) for candidate in candidates)
    return next((path for path in found if Path(path).is_file()), media_file(media, candidates[0]))


class VideoFinder:
    """Finds a video by id (its file's stem) anywhere under a media folder, whatever its extension.

    Searching the whole tree is what the native layouts need: NExT-QA keeps `NExTVideo/1006/4010069381.mp4`,
    YouCook2 `raw_videos/validation/101/GLd3aX16zBg.mp4`.
    """

    def __init__(self, media: str) -> None:
        self._media = Path(media)
        videos = [p for p in self._media.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file()]
        # Shallowest first, then mp4 before the other containers, so the pick is deterministic.
        videos.sort(key=lambda p: (len(p.parts), VIDEO_EXTENSIONS.index(p.suffix.lower()), str(p)))
        self._by_stem: dict[str, Path] = {}
        for path in videos:
            self._by_stem.setdefault(path.stem, path)

    def path(self, video_id: str, *other_names: str) -> str:
        """The file of the first name (stem) found, or `{media}/{video_id}.mp4` when there is none (the index
        builder counts it missing)."""
        found = (self._by_stem.get(name) for name in (video_id, *other_names))
        return str(next((path for path in found if path is not None), self._media / f"{video_id}.mp4"))
