"""%memdiag kernelspec --malloc-debug: a kernelspec running this interpreter with PYTHONMALLOC=debug, that works."""
import json

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from kernel import TIMEOUT, kernel_env


def test_kernelspec_runs_this_interpreter_with_malloc_debug(shared_kernel, tmp_path):
    k = shared_kernel
    out = k.execute(f"%memdiag kernelspec --malloc-debug --prefix {tmp_path}")
    assert "installed kernelspec 'memdiag-malloc-debug'" in out["stdout"]
    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "memdiag-malloc-debug"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"] == [k.value("__import__('sys').executable"), "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"]
    assert spec["env"] == {"PYTHONMALLOC": "debug", "PYTHONDONTWRITEBYTECODE": "1"}
    assert spec["language"] == "python" and "malloc-debug" in spec["display_name"]

    # The kernel it describes starts, runs with the debug allocator, and memdiag works in it.
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    km = KernelManager(kernel_name="memdiag-malloc-debug", kernel_spec_manager=ksm)
    km.start_kernel(env=kernel_env(), extra_arguments=["--HistoryManager.enabled=False"])
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        outputs = []
        kc.execute_interactive("import os, sys, json, memdiag\nget_ipython().run_line_magic('load_ext', 'memdiag')",
                               timeout=TIMEOUT, output_hook=outputs.append)
        kc.execute_interactive("x = bytearray(1000)", timeout=TIMEOUT, output_hook=outputs.append)
        outputs.clear()
        kc.execute_interactive("print(json.dumps([os.environ.get('PYTHONMALLOC'), sys.flags.dont_write_bytecode, "
                               "len(memdiag.history())]))", timeout=TIMEOUT, output_hook=outputs.append)
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        malloc, no_bytecode, recorded = json.loads(text.strip().splitlines()[-1])
        assert malloc == "debug" and no_bytecode == 1 and recorded >= 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
