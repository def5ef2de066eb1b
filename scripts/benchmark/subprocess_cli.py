"""The command line both measured programs share (the notebook baseline and the one-query
limit): run on one generated file, print the result as JSON, optionally write it too. The
benchmark runs each in a subprocess of its own and reads the JSON."""

from __future__ import annotations

import argparse
import json
import resource
from collections.abc import Callable
from pathlib import Path


def peak_rss_bytes() -> int:
    """This process's largest resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(description: str, run: Callable[[str], dict], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("path", help="a .csv, .csv.gz or .parquet file from the generator")
    parser.add_argument("--json-out", help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    text = json.dumps(run(args.path))
    if args.json_out:
        Path(args.json_out).write_text(text)
    print(text)
    return 0
