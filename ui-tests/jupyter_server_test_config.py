"""JupyterLab server for the Galata tests: its own port, a throw-away root dir, no network calls.

Two extra kernels exist only here: `memdiag-missing` (Python, but memdiag cannot be imported) and `echo-test`
(not Python), for the sidebar's install hint and its "not supported" line.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object Jupyter passes in)

c.ServerApp.port = 8899
c.ServerApp.port_retries = 0
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True  # CI runs as root
c.ServerApp.root_dir = tempfile.mkdtemp(prefix="memdiag-galata-")
c.LabApp.extension_manager = "readonly"  # no package index calls
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.FileContentsManager.delete_to_trash = False


def _kernelspec(root, name, display_name, language, argv):
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    spec = {"argv": argv, "display_name": display_name, "language": language}
    (folder / "kernel.json").write_text(json.dumps(spec))


_extra = Path(tempfile.mkdtemp(prefix="memdiag-galata-kernels-"))
_hide_memdiag = (
    "import sys; sys.modules['memdiag'] = None; "
    "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()"
)
_kernelspec(_extra, "memdiag-missing", "Python without memdiag", "python",
            [sys.executable, "-c", _hide_memdiag, "-f", "{connection_file}"])
_kernelspec(_extra, "echo-test", "Echo", "echo",
            [sys.executable, str(Path(__file__).parent / "kernels" / "echo_kernel.py"), "-f", "{connection_file}"])
os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(_extra), os.environ.get("JUPYTER_PATH")]))
