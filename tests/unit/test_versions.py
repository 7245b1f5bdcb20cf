"""One version everywhere: the engine, its Python package, the app manifest and UCC's globalConfig
(scripts/package.sh names the tarballs after globalConfig's)."""
import json
import os
import re

import boundaryflow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_place_names_the_same_version():
    with open(os.path.join(ROOT, "globalConfig.json")) as fh:
        ucc = json.load(fh)["meta"]["version"]
    with open(os.path.join(ROOT, "package", "app.manifest")) as fh:
        manifest = json.load(fh)["info"]["id"]["version"]
    with open(os.path.join(ROOT, "pyproject.toml")) as fh:
        project = re.search(r'^version = "([^"]+)"', fh.read(), re.M).group(1)
    assert {ucc, manifest, project, boundaryflow.__version__} == {boundaryflow.__version__}
