"""The comm on target `memdiag` (protocol/README.md): one comm at a time, every incoming message validated.

The kernel opens the comm (hello) when loaded or bootstrapped; a frontend may also open one to the target, which then
replaces ours. With kernel subshells (ipykernel 7) a request can arrive while a cell runs, on another thread: handlers
take the recorder's lock, and requests that walk the heap wait for the end of the cell.
"""
import threading

from . import protocol

_ACTIONS = ("config", "why", "trace_next", "deep_next", "history", "give_back")


def _in_kernel(shell):
    return getattr(shell, "kernel", None) is not None


class Bridge:
    """The comm on target `memdiag`: sends the hello, every report, every config change and the progress of long
    post-cell work (progress.py) to the frontend, and answers its requests (config, history, why, trace_next,
    deep_next, give_back) with {"type": "reply", "request_id", "ok", "result" or "error"}."""

    def __init__(self, shell, recorder, config, version, inspector):
        self.shell = shell
        self.recorder = recorder
        self.config = config
        self.version = version
        self.inspector = inspector  # callable(name) -> why-result dict, raises ValueError with a user message
        self._comm = None
        self._lock = threading.Lock()
        self._target_registered = False
        recorder.report_listeners.append(self._on_report)
        recorder.progress_listeners.append(self._send)
        config.add_listener(self._on_config)

    # -- opening and closing -----------------------------------------------------------------------------------
    def hello(self):
        """The hello message: {"type": "hello", "protocol": PROTOCOL_VERSION, "version": memdiag's version, "config":
        the settings dict, "history": the kept reports, oldest first}."""
        return {"type": "hello", "protocol": protocol.PROTOCOL_VERSION, "version": self.version,
                "config": self.config.as_dict(), "history": self.recorder.history.reports()}

    def announce(self):
        """(Re)open the comm with a hello, closing the previous one; returns the new comm. Without a kernel (terminal
        IPython) nothing happens and it returns None."""
        if not _in_kernel(self.shell):
            return None
        import comm  # at call time: ipykernel installs its own create_comm when the kernel starts

        self.register_target()
        with self._lock:
            self._close_locked()
            new = comm.create_comm(target_name=protocol.COMM_TARGET, data=self.hello())
            self._adopt_locked(new)
            return new

    def register_target(self):
        """Let a frontend open the comm to target `memdiag` itself (registered once; nothing without a kernel)."""
        if self._target_registered or not _in_kernel(self.shell):
            return
        import comm

        comm.get_comm_manager().register_target(protocol.COMM_TARGET, self._on_frontend_open)
        self._target_registered = True

    def _on_frontend_open(self, new, open_msg):
        # A frontend opened the comm itself: it becomes the one comm, and gets the hello as its first message.
        with self._lock:
            self._close_locked()
            self._adopt_locked(new)
        self._send(self.hello())

    def _adopt_locked(self, new):
        self._comm = new
        new.on_msg(self._on_msg)
        new.on_close(lambda msg, c=new: self._forget(c))

    def _forget(self, closed):
        with self._lock:
            if self._comm is closed:
                self._comm = None

    def _close_locked(self):
        old, self._comm = self._comm, None
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 - a dead kernel socket must not stop a new comm
                pass

    def close(self):
        """Close the comm, unregister the target and stop listening to reports and config changes."""
        with self._lock:
            self._close_locked()
        if self._target_registered:
            import comm

            try:
                comm.get_comm_manager().unregister_target(protocol.COMM_TARGET, self._on_frontend_open)
            except Exception:  # noqa: BLE001
                pass
            self._target_registered = False
        if self._on_report in self.recorder.report_listeners:
            self.recorder.report_listeners.remove(self._on_report)
        if self._send in self.recorder.progress_listeners:
            self.recorder.progress_listeners.remove(self._send)
        self.config.remove_listener(self._on_config)

    @property
    def is_open(self):
        """True while a comm is open (ours, or one a frontend opened)."""
        return self._comm is not None

    # -- outgoing ----------------------------------------------------------------------------------------------
    def _send(self, data):
        with self._lock:
            current = self._comm
        if current is not None:
            current.send(data)

    def _on_report(self, report, deep):
        self._send({"type": "report", "report": report})

    def _on_config(self, values):
        self._send({"type": "config", "config": values})

    def _reply(self, request_id, ok, result=None, error=None):
        message = {"type": "reply", "request_id": request_id, "ok": ok}
        if ok:
            message["result"] = protocol.json_safe(result)
        else:
            message["error"] = protocol.short(str(error))
        self._send(message)

    # -- incoming ----------------------------------------------------------------------------------------------
    def _on_msg(self, msg):
        data = msg.get("content", {}).get("data") if isinstance(msg, dict) else None
        request_id = data.get("request_id") if isinstance(data, dict) else None
        request_id = request_id if isinstance(request_id, str) else ""
        try:
            action, args = _validate(data)
        except ValueError as exc:
            self._reply(request_id, False, error=exc)
            return
        try:
            self._dispatch(request_id, action, args)
        except ValueError as exc:
            self._reply(request_id, False, error=exc)
        except Exception as exc:  # noqa: BLE001 - any failure becomes an error reply, never a kernel traceback
            self._reply(request_id, False, error=f"{type(exc).__name__}: {exc}")

    def _dispatch(self, request_id, action, args):
        if action == "config":
            self._reply(request_id, True, self.config.update(args))
        elif action == "history":
            self._reply(request_id, True, {"history": self.recorder.history.reports()})
        elif action == "deep_next":
            cell_id = args.get("cell_id")
            if not isinstance(cell_id, str) or not cell_id or len(cell_id) > 200:
                raise ValueError("deep_next needs args.cell_id (a non-empty string)")
            self.recorder.deep_next(cell_id)
            self._reply(request_id, True, {"cell_id": cell_id})
        elif action == "trace_next":
            cell_id = args.get("cell_id")
            if not isinstance(cell_id, str) or not cell_id:
                raise ValueError("trace_next needs args.cell_id (a non-empty string)")
            self.recorder.trace_next(cell_id)
            self._reply(request_id, True, {"cell_id": cell_id})
        elif action == "why":
            name = args.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 500:
                raise ValueError("why needs args.name (a variable name or an expression)")

            def job():
                try:
                    self._reply(request_id, True, self.inspector(name))
                except Exception as exc:  # noqa: BLE001
                    self._reply(request_id, False, error=f"{type(exc).__name__}: {exc}")

            self.recorder.when_idle(job)
        elif action == "give_back":
            self.recorder.when_idle(lambda: self._give_back(request_id))

    def _give_back(self, request_id):
        # The Dask workers return free memory to the OS (malloc_trim), between cells so no cell's figures move.
        from .probes import cluster

        client, why = cluster.find_client()
        if client is None:
            self._reply(request_id, False, error=why or "no dask.distributed Client is active in this kernel")
            return
        try:
            self._reply(request_id, True, cluster.give_back(client, self.recorder.cluster_watch))
        except Exception as exc:  # noqa: BLE001 - a timeout, a closed client: an error reply
            self._reply(request_id, False, error=f"{type(exc).__name__}: {exc}")


def _validate(data):
    if not isinstance(data, dict):
        raise ValueError("a message must be an object")
    if data.get("type") != "request":
        raise ValueError("only messages of type 'request' are accepted")
    if not isinstance(data.get("request_id"), str) or not data["request_id"]:
        raise ValueError("request_id must be a non-empty string")
    action = data.get("action")
    if action not in _ACTIONS:
        raise ValueError("unknown action; expected one of: " + ", ".join(_ACTIONS))
    args = data.get("args", {})
    if not isinstance(args, dict):
        raise ValueError("args must be an object")
    return action, args
