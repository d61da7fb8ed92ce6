"""A real IPython kernel driven like JupyterLab drives it: execute_request with metadata.cellId, comm traffic on
iopub."""
import json
import os
import queue
import uuid
from pathlib import Path

from jupyter_client import BlockingKernelClient, KernelManager

PYTHON_DIR = str(Path(__file__).resolve().parents[1])
TIMEOUT = 120


def kernel_env():
    env = dict(os.environ)
    # The source tree is importable before `pip install -e .` too; harmless after it. Not under nox
    # (MEMDIAG_TEST_INSTALLED=1): there the kernel must import the memdiag installed from the wheel.
    if env.get("MEMDIAG_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PYTHON_DIR, env.get("PYTHONPATH")) if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


class Kernel:
    def __init__(self, km=None, history=":memory:"):
        """A new kernel, or (km given) a second client of a running kernel, as a console attached to a notebook's.
        `history`: IPython's history file; in memory (no history thread) unless a path is given, as users have it."""
        self.owner = km is None
        if self.owner:
            km = KernelManager(kernel_name="python3")
            km.start_kernel(env=kernel_env(), extra_arguments=[f"--HistoryManager.hist_file={history}"])
        self.km = km
        if self.owner:
            self.kc = km.client()
        else:  # its own session and socket identity, as a separate console process would have
            self.kc = BlockingKernelClient()
            self.kc.load_connection_info(km.get_connection_info())
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.comm_messages = []  # every comm_open / comm_msg / comm_close from the kernel, in order

    def close(self):
        self.kc.stop_channels()
        if self.owner:
            self.km.shutdown_kernel(now=True)

    def submit(self, code, cell_id=None):
        """Send an execute_request without waiting (a client that queues cells); returns its msg_id."""
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": False}
        msg = self.kc.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def wait_all(self, msg_ids, timeout=TIMEOUT):
        """Wait for the replies to submitted requests; returns {msg_id: {"status", "outputs"}}. Comm traffic is kept."""
        pending, done = set(msg_ids), {}
        outputs = {m: [] for m in msg_ids}
        while pending:
            msg = self.kc.iopub_channel.get_msg(timeout=timeout)
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"].startswith("comm"):
                self.comm_messages.append(msg)
            elif parent in outputs and msg["msg_type"] in ("stream", "error", "execute_result", "display_data"):
                outputs[parent].append(msg)
            elif parent in pending and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                pending.discard(parent)
        while len(done) < len(msg_ids):
            reply = self.kc.get_shell_msg(timeout=timeout)
            parent = reply["parent_header"].get("msg_id")
            if parent in outputs:
                done[parent] = {"status": reply["content"]["status"], "outputs": outputs[parent]}
        return done

    def execute(self, code, cell_id=None, silent=False, allow_error=False):
        """Run code as a notebook cell; returns {"status", "stdout", "outputs", "comm"} for this request."""
        content = {"code": code, "silent": silent, "store_history": not silent, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": False}
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        stdout, outputs, comm = [], [], []
        while True:
            reply = self.kc.iopub_channel.get_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") != msg_id:
                if reply["msg_type"].startswith("comm"):
                    self.comm_messages.append(reply)
                continue
            kind = reply["msg_type"]
            if kind == "stream":
                stdout.append(reply["content"]["text"])
            elif kind in ("execute_result", "display_data", "error"):
                outputs.append(reply)
            elif kind.startswith("comm"):
                comm.append(reply)
                self.comm_messages.append(reply)
            elif kind == "status" and reply["content"]["execution_state"] == "idle":
                break
        shell_reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while shell_reply["parent_header"].get("msg_id") != msg_id:
            shell_reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        status = shell_reply["content"]["status"]
        if status != "ok" and not allow_error:
            tb = [o["content"].get("traceback") for o in outputs if o["msg_type"] == "error"]
            raise AssertionError(f"cell failed: {code!r}\n{tb}")
        return {"status": status, "stdout": "".join(stdout), "outputs": outputs, "comm": comm}

    def value(self, expr):
        """Evaluate an expression in the kernel and return it through JSON (the cell itself gets recorded too)."""
        out = self.execute(f"import json as _j; print(_j.dumps({expr}))")["stdout"]
        return json.loads(out.strip().splitlines()[-1])

    def rerun(self, code, runs):
        """Run `code` `runs` times as one notebook cell (one new cell id); returns that cell's reports, oldest first."""
        cell = new_id()
        for _ in range(runs):
            self.execute(code, cell_id=cell)
        return [r for r in self.reports() if r["cell_id"] == cell]

    def reports(self):
        return [m["content"]["data"]["report"] for m in self.comm_messages
                if m["msg_type"] == "comm_msg" and m["content"]["data"].get("type") == "report"]

    def send_comm(self, comm_id, data):
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)

    def wait_comm(self, predicate, timeout=30):
        """Wait for a comm message (not tied to an execute_request) that satisfies predicate."""
        for m in self.comm_messages:
            if predicate(m):
                return m
        while True:
            try:
                m = self.kc.iopub_channel.get_msg(timeout=timeout)
            except queue.Empty:
                raise AssertionError("no such comm message") from None
            if m["msg_type"].startswith("comm"):
                self.comm_messages.append(m)
                if predicate(m):
                    return m


def new_id():
    return uuid.uuid4().hex[:12]
