"""Where a flow's time goes (per stage): the engine's own ``boundaryflow bench``."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "package", "bin"))

from boundaryflow.benchmark import run_benchmark  # noqa: E402


def main(argv=None):
    return run_benchmark(argv)


if __name__ == "__main__":
    sys.exit(main())
