"""The kernel-side test suite (python/tests) on every CPython 3.10-3.13 found on this machine, each in its own venv with
memdiag installed from the built wheel (dist/memdiag-*.whl, `make wheel`) plus its `test` extra.

    make test-python                       # what `make test` runs: .venv/bin/nox -f noxfile.py
    .venv/bin/nox -s tests-3.12 -r -- -k verdict   # one version, reusing its venv, pytest arguments

Interpreters: the newest $(pyenv root)/versions/3.X.N/bin/python3.X, else `python3.X` on PATH (pyenv shims are run to
find the real interpreter behind them; a shim with no such version installed counts as missing). A missing version is
skipped with one line, unless it is listed in MEMDIAG_REQUIRE_PYTHONS (as .ci/run does: "3.11 3.12 3.13"), in which
case its session fails.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
REQUIRED = os.environ.get("MEMDIAG_REQUIRE_PYTHONS", "").replace(",", " ").split()

nox.options.sessions = [f"tests-{v}" for v in VERSIONS]
nox.options.default_venv_backend = "virtualenv"
nox.options.download_python = "never"  # offline: never fetch an interpreter, only use the ones installed here
nox.options.error_on_missing_interpreters = True
os.environ.setdefault("VIRTUALENV_NO_PERIODIC_UPDATE", "1")  # virtualenv seeds pip from its own wheels, no network

_PROBE = (
    "import json, sys, sysconfig; print(json.dumps([sys.implementation.name, list(sys.version_info[:2]), "
    "sys._base_executable if sys.prefix != sys.base_prefix else sys.executable, "
    "bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
)


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    home = Path.home() / ".pyenv"
    return home if home.is_dir() else None


def _real_interpreter(candidate: str, version: str) -> str | None:
    """The interpreter behind candidate (a shim runs the real one) if it is a GIL-enabled CPython of that version."""
    try:
        out = subprocess.run([candidate, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False)
        name, ver, executable, free_threaded = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or name != "cpython" or free_threaded or ".".join(map(str, ver)) != version:
        return None
    return executable


def find_python(version: str) -> str | None:
    candidates = []
    root = _pyenv_root()
    if root is not None:
        pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")  # 3.13.0, not 3.13.0t, 3.13-dev or a virtualenv's name
        found = []
        for path in glob.glob(str(root / "versions" / f"{version}.*" / "bin" / f"python{version}")):
            match = pattern.match(Path(path).parents[1].name)
            if match:
                found.append((int(match.group(1)), path))
        candidates += [path for _, path in sorted(found, reverse=True)]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        real = _real_interpreter(candidate, version)
        if real:
            return real
    return None


PYTHONS = {v: find_python(v) for v in VERSIONS}
for _v in REQUIRED:
    if _v not in VERSIONS:
        raise SystemExit(f"memdiag: MEMDIAG_REQUIRE_PYTHONS names {_v}; the kernel tests run on {', '.join(VERSIONS)}")


def _wheel() -> str:
    wheels = sorted(ROOT.glob("dist/memdiag-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise FileNotFoundError("no dist/memdiag-*.whl: run `make wheel` first")
    return str(wheels[-1])


# Run inside the session's venv before pytest: memdiag is the installed one, in this process and in a kernel
# started exactly as the tests start theirs (KernelManager("python3"), kernel_env()), which runs this venv's python.
_GUARD = r"""
import json, os, sys, sysconfig
from pathlib import Path
sys.path.insert(0, os.path.join("python", "tests"))
import memdiag
from kernel import Kernel
site = Path(sysconfig.get_paths()["purelib"]).resolve()
venv = Path(sys.prefix).resolve()
def check(where, executable, module):
    assert Path(module).resolve().is_relative_to(site), f"{where}: memdiag imported from {module}, not from {site}"
    assert Path(executable).parent.parent.resolve() == venv, f"{where}: runs {executable}, not the python of {venv}"
check("pytest process", sys.executable, memdiag.__file__)
k = Kernel()
try:
    executable, module = k.value("[__import__('sys').executable, __import__('memdiag').__file__]")
finally:
    k.close()
check("kernel", executable, module)
print(f"memdiag {memdiag.__version__} from {Path(module).parent} (kernel: {executable})")
"""


def _register(version: str, python: str | None) -> None:
    if python is None:

        def missing(session: nox.Session) -> None:
            if version not in REQUIRED:
                session.skip(f"memdiag: Python {version} not found; its kernel tests are skipped")
            session.error(
                f"memdiag: Python {version} is required here (MEMDIAG_REQUIRE_PYTHONS) but was found neither as "
                f"$(pyenv root)/versions/{version}.*/bin/python{version} nor as python{version} on PATH"
            )

        missing.__doc__ = f"Python {version} not found: " + ("required, fails" if version in REQUIRED else "skipped")

        nox.session(name=f"tests-{version}", python=False)(missing)
        return

    def tests(session: nox.Session) -> None:
        wheel = _wheel()
        session.install(f"{wheel}[test]")
        if session.virtualenv.reuse_existing:  # -r: the same version number would leave an older build in place
            session.install("--force-reinstall", "--no-deps", wheel)
        # The kernelspec "python3" in the venv names this venv's interpreter (found before a user's or the system's).
        session.run("python", "-m", "ipykernel", "install", "--sys-prefix", silent=True)
        session.env.update(MEMDIAG_TEST_INSTALLED="1", JUPYTER_PREFER_ENV_PATH="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        session.env["PYTHONPATH"] = None  # removed: nothing but the venv's site-packages
        session.run("python", "-c", _GUARD)
        # All of python/tests unless told what: nox -s tests-3.12 -- python/tests/test_why.py -x (or -- -k why)
        session.run("python", "-m", "pytest", "-q", *(session.posargs or ["python/tests"]))

    tests.__doc__ = f"python/tests on CPython {version} ({python}), memdiag from the wheel"
    nox.session(name=f"tests-{version}", python=python)(tests)


for _v, _python in PYTHONS.items():
    _register(_v, _python)
