"""Command-line flags for the polite fetcher (shared by every job that fetches)."""

from __future__ import annotations

import argparse

from pipelines.argument_types import non_negative_float, non_negative_int, positive_float, positive_int
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fetching (URL lists, images, videos)")
    defaults = FetchConfig()
    group.add_argument("--user_agent", default=defaults.user_agent, help="default: %(default)s")
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=defaults.read_timeout,
        help="read timeout, seconds (default: %(default)s)",
    )
    group.add_argument(
        "--max_retries",
        type=non_negative_int,
        default=defaults.max_retries,
        help="on 429/5xx/connection errors (default: %(default)s)",
    )
    group.add_argument(
        "--max_redirects", type=non_negative_int, default=defaults.max_redirects, help="default: %(default)s"
    )
    group.add_argument("--max_page_bytes", type=positive_int, default=defaults.max_bytes, help="default: %(default)s")
    group.add_argument(
        "--per_host_delay",
        type=non_negative_float,
        default=defaults.per_host_delay,
        help="seconds between requests to one host (default: %(default)s)",
    )
    group.add_argument(
        "--per_host_concurrency",
        type=positive_int,
        default=defaults.max_concurrent_per_host,
        help="requests in flight to one host at once (default: %(default)s)",
    )
    group.add_argument(
        "--ignore_robots_txt", action="store_true", help="do not honour robots.txt (only for your own sites)"
    )
    group.add_argument(
        "--allow_loopback", action="store_true", help="allow fetching from 127.0.0.0/8 and ::1 (refused by default)"
    )
    group.add_argument(
        "--allow_private_addresses",
        action="store_true",
        help="allow RFC 1918 / unique-local addresses (refused by default)",
    )
    group.add_argument(
        "--fetch_mirror",
        help="fetch every URL from a mirror laid out as HOST/PATH (wget --force-directories), such as a local copy "
        "of a crawl's images; records keep the original URLs",
    )


def fetch_config_from_args(args: argparse.Namespace) -> FetchConfig:
    return FetchConfig(
        user_agent=args.user_agent,
        read_timeout=args.timeout,
        max_retries=args.max_retries,
        max_redirects=args.max_redirects,
        max_bytes=args.max_page_bytes,
        per_host_delay=args.per_host_delay,
        max_concurrent_per_host=args.per_host_concurrency,
        respect_robots=not args.ignore_robots_txt,
        addresses=AddressPolicy(allow_loopback=args.allow_loopback, allow_private=args.allow_private_addresses),
        mirror=args.fetch_mirror,
    )
