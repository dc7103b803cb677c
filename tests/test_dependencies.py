"""What pyproject.toml declares is what the code imports: every third-party module the packages import
is declared, in the core list or in the extra of the only code that imports it. (That curation runs
with none of the extras installed, as on the Beam workers' image, is tests/test_cli.py's demo test.)"""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CURATION = ("schemas", "pipelines", "dedup", "shards")
OWN = {"schemas", "pipelines", "dedup", "shards", "trainer", "benchmarks"}
# code that imports an extra's packages, and only on use: the learned embedders
EXTRA_USERS = {"dedup/embedders/torch_models.py": "embed"}


def declared() -> dict[str, set[str]]:
    """'core' and each extra -> the distribution names it lists (normalised), with those of the extras it
    includes (`flamingo-curate[embed]`)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lists = {"core": project["dependencies"], **project["optional-dependencies"]}

    def names(listed: str) -> set[str]:
        found = set()
        for dep in lists[listed]:
            if included := re.fullmatch(r"flamingo-curate\[(\w+)\]", dep):
                found |= names(included.group(1))
            else:
                found.add(_normalised(re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0]))
        return found

    return {listed: names(listed) for listed in lists}


def imported_distributions(path: Path) -> set[str]:
    distributions = _distributions()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in OWN or top in sys.stdlib_module_names:
                continue
            found |= {_normalised(d) for d in distributions.get(top, [top])}
    return found


def test_every_imported_package_is_declared_where_its_code_is_installed():
    lists = declared()
    missing = []
    for package in [*CURATION, "trainer"]:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(REPO_ROOT))
            extra = EXTRA_USERS.get(relative) or ("train" if package == "trainer" else None)
            allowed = lists["core"] | (lists[extra] if extra else set())
            missing += [f"{relative}: {d}" for d in sorted(imported_distributions(path) - allowed)]
    assert not missing, "imported but not declared in pyproject.toml:\n" + "\n".join(missing)


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()  # top-level module -> its distributions: slow, so once


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
