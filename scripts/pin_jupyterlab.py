"""Pin every @jupyterlab/* npm package to the versions of the installed JupyterLab.

The npm registry can list @jupyterlab/* releases whose own dependencies are missing, so caret ranges
fail to resolve. The installed jupyterlab's staging/package.json names the exact set it was built
with; this script writes it into package.json (dependencies and an npm `overrides` block).
Run it after changing the pinned `jupyterlab` in pyproject.toml, then `npm install`.
"""

import json
import sys
from pathlib import Path

import jupyterlab

ROOT = Path(__file__).resolve().parent.parent


def staging_versions() -> dict[str, str]:
    staging = Path(jupyterlab.__file__).parent / "staging" / "package.json"
    resolutions = json.loads(staging.read_text())["resolutions"]
    return {
        name: spec.lstrip("~^")
        for name, spec in resolutions.items()
        if name.startswith("@jupyterlab/")
    }


def main() -> int:
    pins = staging_versions()
    path = ROOT / "package.json"
    package = json.loads(path.read_text())
    for section in ("dependencies", "devDependencies"):
        for name in package.get(section, {}):
            if name in pins:
                package[section][name] = pins[name]
    package["overrides"] = {name: pins[name] for name in sorted(pins)}
    path.write_text(json.dumps(package, indent=2) + "\n")
    print(f"pinned {len(pins)} @jupyterlab packages to JupyterLab {jupyterlab.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
