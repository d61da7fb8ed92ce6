"""The allocators' counters around a cell (probes/heap.py): the block count carried over from the previous cell only
while the kernel stayed idle, through a real kernel."""
import os

from kernel import new_id

from memdiag.probes.heap import IDLE_BYTES, carried_blocks

MB = 1_000_000


def last(heap=50 * MB, rss=100 * MB, blocks=123_456, pid=None):
    return {"pid": os.getpid() if pid is None else pid, "heap": heap, "rss": rss, "blocks": blocks}


def test_carried_only_while_idle():
    assert carried_blocks(last(), 50 * MB + 4096, 100 * MB - 8192) == 123_456
    assert carried_blocks(None, 50 * MB, 100 * MB) is None  # the first cell, or one after an unrecorded cell
    assert carried_blocks(last(pid=os.getpid() + 1), 50 * MB, 100 * MB) is None  # a forked child
    assert carried_blocks(last(), None, 100 * MB) is None  # no mallinfo2: nothing tells idle from busy
    assert carried_blocks(last(heap=None), 50 * MB, 100 * MB) is None
    assert carried_blocks(last(), 50 * MB + IDLE_BYTES, 100 * MB) is None
    assert carried_blocks(last(), 50 * MB - IDLE_BYTES, 100 * MB) is None  # freed as much: not idle either
    assert carried_blocks(last(), 50 * MB, 100 * MB + IDLE_BYTES) is None


def test_block_count_carried_between_recorded_cells_only(kernel, report_validator):
    kernel.execute("%load_ext memdiag")
    kernel.execute("a = 1", cell_id=new_id())
    kernel.execute("b = 2", cell_id=new_id())
    first, second = kernel.reports()[-2:]
    assert second["heap"].get("blocks_carried") is True
    assert second["heap"]["blocks_before"] == first["heap"]["blocks_after"]
    report_validator(second)

    # A silent execution runs no hooks: 200,000 small strings (pymalloc blocks, unseen by mallinfo2) in a list of
    # 1.6 MB (seen) between two cells. The next cell reads its own start, and is not charged with them.
    kernel.execute("kept_between = [str(i) for i in range(200_000)]", silent=True)
    kernel.execute("c = 3", cell_id=new_id())
    third = kernel.reports()[-1]
    assert "blocks_carried" not in third["heap"]
    assert third["heap"]["blocks_after"] - third["heap"]["blocks_before"] < 20_000
    assert third["verdict"]["kind"] == "ok"

    # A traced run leaves no reading behind (tracemalloc's tables are freed after its census).
    kernel.execute("%%memdiag\nd = [0] * 10", cell_id=new_id())
    kernel.execute("e = 5", cell_id=new_id())
    assert "blocks_carried" not in kernel.reports()[-1]["heap"]
    kernel.execute("f = 6", cell_id=new_id())
    assert kernel.reports()[-1]["heap"].get("blocks_carried") is True

    # Nor does a cell memdiag does not record (memdiag switched off for it).
    kernel.execute("%memdiag off")
    kernel.execute("g = 7", cell_id=new_id())
    kernel.execute("%memdiag on")
    kernel.execute("h = 8", cell_id=new_id())
    assert "blocks_carried" not in kernel.reports()[-1]["heap"]
