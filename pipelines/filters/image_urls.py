"""Image rules that need only the page: the URL and the declared size, before anything is fetched."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.argument_types import non_negative_int
from schemas import ImageSegment

# Words in an image's path that mark decoration, not content (OBELICS and mmc4 drop the same kinds).
DEFAULT_BANNED_SUBSTRINGS = (
    "logo", "icon", "sprite", "pixel", "avatar", "badge", "button", "spacer", "blank.gif", "placeholder",
    "emoji", "favicon", "gravatar", "loader", "spinner", "doubleclick", "/ads/", "/ad/", "tracking", "beacon",
)  # fmt: skip
# Formats that are icons or vector drawings, never photographs.
DEFAULT_BANNED_EXTENSIONS = (".svg", ".ico")
# Hosts that serve tracking pixels and ad beacons, matched with their subdomains.
TRACKER_HOSTS = frozenset(
    {
        "scorecardresearch.com", "pixel.wp.com", "stats.wp.com", "google-analytics.com", "doubleclick.net",
        "googlesyndication.com", "googleadservices.com", "facebook.com/tr", "bat.bing.com", "quantserve.com",
        "chartbeat.net", "adnxs.com", "mathtag.com", "krxd.net", "bluekai.com", "demdex.net", "omtrdc.net",
        "2o7.net", "everesttech.net", "adsrvr.org", "rubiconproject.com", "pubmatic.com", "casalemedia.com",
        "openx.net", "criteo.com", "criteo.net", "taboola.com", "outbrain.com", "mc.yandex.ru", "top-fwz1.mail.ru",
        "counter.yadro.ru", "hit.gemius.pl", "imrworldwide.com", "amazon-adsystem.com", "ads.linkedin.com",
        "analytics.twitter.com", "ct.pinterest.com", "tr.snapchat.com", "sb.scorecardresearch.com", "parsely.com",
    }
)  # fmt: skip
# A host whose first label says what it does: pixel.example.com, beacon.example.net, stats..., ads...
TRACKER_HOST_LABELS = frozenset({"pixel", "pixels", "beacon", "beacons", "track", "tracking", "tracker", "stats",
                                 "analytics", "metrics", "counter", "ad", "ads", "adserver", "adservice"})  # fmt: skip
# A path that is a 1x1 image or a beacon, whatever the host: 1x1-000000-0.png, /b.gif, __utm.gif, /p?c1=...
_BEACON_PATH = re.compile(
    r"(^|[/_.-])1x1([/_.-]|$)|/(b|p|t|pixel|beacon|spacer|blank|clear|trans|transparent|empty|__utm)\.(gif|png)$|^/p$"
)


@dataclass(frozen=True)
class ImageUrlRules:
    banned_substrings: tuple[str, ...] = DEFAULT_BANNED_SUBSTRINGS
    banned_extensions: tuple[str, ...] = DEFAULT_BANNED_EXTENSIONS
    # Flamingo drops images with a side under 64 px; a page that displays one smaller than that
    # (width/height attributes) shows an icon or a tracking pixel.
    min_declared_side: int = 64


def image_url_rejection(image: ImageSegment, rules: ImageUrlRules) -> str | None:
    """Why this image is dropped before fetching (a short reason), or None to keep it."""
    url = image.url
    if url.startswith("data:"):
        return "data_uri"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "not_http_url"
    host = (parts.hostname or "").lower()
    if _is_tracker_host(host, parts.path):
        return "tracker_host"
    path = parts.path.lower()
    if _BEACON_PATH.search(path):
        return "beacon"
    if path.endswith(rules.banned_extensions):
        return "banned_extension"
    where = f"{path}?{parts.query.lower()}"
    if any(word in where for word in rules.banned_substrings):
        return "banned_url_substring"
    sides = [s for s in (image.declared_width, image.declared_height) if s is not None]
    if sides and min(sides) < rules.min_declared_side:
        return "declared_too_small"
    return None


def _is_tracker_host(host: str, path: str) -> bool:
    labels = host.split(".")
    suffixes = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    first_path_segment = path.split("/", 2)[1] if path.count("/") else ""
    return (
        not suffixes.isdisjoint(TRACKER_HOSTS)
        or any(f"{suffix}/{first_path_segment}" in TRACKER_HOSTS for suffix in suffixes)
        or (len(labels) > 2 and labels[0] in TRACKER_HOST_LABELS)
    )


def add_image_url_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("image URL rules (before fetching)")
    defaults = ImageUrlRules()
    group.add_argument(
        "--banned_image_substrings",
        default=",".join(defaults.banned_substrings),
        help="comma-separated words; an image whose URL path contains one is dropped (default: %(default)s)",
    )
    group.add_argument(
        "--banned_image_extensions",
        default=",".join(defaults.banned_extensions),
        help="comma-separated file extensions that are dropped (default: %(default)s)",
    )
    group.add_argument(
        "--min_declared_image_side",
        type=non_negative_int,
        default=defaults.min_declared_side,
        help="drop images whose width/height attribute is below this, in px (Flamingo's 64 px rule; default: %(default)s)",
    )


def image_url_rules_from_args(args: argparse.Namespace) -> ImageUrlRules:
    return ImageUrlRules(
        banned_substrings=_split(args.banned_image_substrings),
        banned_extensions=_split(args.banned_image_extensions),
        min_declared_side=args.min_declared_image_side,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip().lower() for v in value.split(",") if v.strip())
