"""JupyterLab server for the Galata tests: its own port, a throw-away root dir, no network calls."""

import tempfile

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
