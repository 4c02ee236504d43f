"""Print the dependencies a pyproject.toml declares, one per line (a requirements file).

The image installs them before copying the sources, so editing code does not reinstall every dependency.
Usage: python pyproject_deps.py PYPROJECT [--skip NAME ...] [--extra EXTRA ...]
"""

from __future__ import annotations

import argparse
import re

import tomllib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pyproject")
    parser.add_argument(
        "--skip", action="append", default=[], help="a dependency to leave out (built locally)"
    )
    parser.add_argument("--extra", action="append", default=[], help="an optional extra to include too")
    args = parser.parse_args()
    with open(args.pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    deps = project["dependencies"] + [d for e in args.extra for d in project["optional-dependencies"][e]]
    for dep in deps:
        name = re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0]
        if name not in args.skip:
            print(dep)


if __name__ == "__main__":
    main()
