"""The Dask workers of a report as plain text: the lines display.py adds to text/plain and text/html (terminal IPython,
nbviewer, VS Code, any frontend without memdiag's renderer). Pure: no IPython, no distributed, no I/O.

It says what the inline report's Workers part says (src/sidebar/workerparts.ts), in the words of the kernel's own
lines: the cluster verdict and its reason, each worker's RSS before -> after with managed / unmanaged / spilled (Dask's
terms), the workers lost or silent during the cell, and for `%%memdiag --workers` the allocation sites on the workers
and the worker globals the cell left, each with its root, chain and advice.
"""
from .verdict import format_bytes

MAX_WORKERS = 16  # worker rows shown; the rest are counted
MAX_TRACED = 5  # sites and globals shown, as the inline report


def _mb(n):
    return format_bytes(n) if isinstance(n, (int, float)) else "n/a"


def _signed(n):
    return ("+" if n >= 0 else "-") + format_bytes(abs(n))


def _worker_line(row):
    before, after = row.get("rss_before"), row.get("rss_after")
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        rss = f"RSS {_mb(before)} -> {_mb(after)} ({_signed(after - before)})"
    else:
        rss = f"RSS {_mb(after)} (joined during the cell)"
    parts = (f"managed {_mb(row.get('managed'))}, unmanaged {_mb(row.get('unmanaged'))}, "
             f"spilled {_mb(row.get('spilled'))}")
    limit = f", limit {_mb(row['memory_limit'])}" if row.get("memory_limit") else ""
    trimmed = f", malloc_trim gave back {_mb(row['trimmed'])}" if row.get("trimmed") else ""
    return f"  worker {row.get('name')}: {rss}; {parts}{limit}{trimmed}"


def chain_text(item):
    """A worker global's chain as one line, as the kernel's chains read: `leakymod.CACHE -> module leakymod (worker
    process).CACHE -> list` (item: {"root": str, "chain": [{"label": str, "edge": str}]})."""
    chain = item.get("chain") or []
    parts = [str(item.get("root", "?"))]
    for i, link in enumerate(chain):
        following = chain[i + 1] if i + 1 < len(chain) else None
        parts.append(f"{link['label']}{following['edge']}" if following and following.get("edge") else link["label"])
    return " -> ".join(parts)


def _by_name(names):
    def key(name):
        text = str(name)
        return (0, int(text), text) if text.isdigit() else (1, 0, text)

    return sorted(names, key=key)


def _traced_lines(traced):
    lines = []
    workers = traced.get("workers") or []
    if workers:
        retained = sum(w.get("retained") or 0 for w in workers)
        own = sum(w.get("machinery") or 0 for w in workers)
        lines.append(f"Python allocations still held on the workers: {_mb(retained)} "
                     f"(Dask's own machinery: {_mb(own)} of it)")
    sites = sorted(((w.get("name"), s) for w in workers for s in w.get("sites") or []),
                   key=lambda ws: ws[1].get("size", 0), reverse=True)[:MAX_TRACED]
    if sites:
        lines.append("Allocation sites on the workers:")
        for name, site in sites:
            where = f"{site['file']}:{site['line']}" + (f" ({site['function']})" if site.get("function") else "")
            code = f": {site['code']}" if site.get("code") else ""
            lines.append(f"  {_mb(site['size']):>9}  {site['count']:>6}x  worker {name}  {where}{code}")
    globals_ = (traced.get("globals") or [])[:MAX_TRACED]
    if globals_:
        lines.append("Left in worker globals:")
        for item in globals_:
            added = f", {item['added']} items" if isinstance(item.get("added"), int) and item["added"] > 0 else ""
            lines.append(f"  {item['root']} ({item['type']}, {item['status']}): {_mb(item['size'])}, "
                         f"{_mb(item.get('added_size'))} added{added}")
            grew = f"; grew on {', '.join(str(n) for n in _by_name(item['workers']))}" if item.get("workers") else ""
            lines.append(f"    Held by: {chain_text(item)}{grew}")
            if item.get("advice"):
                lines.append(f"    {item['advice']}")
    return lines


def summary_lines(report):
    """The report's `cluster` section as short lines of text (a list of str, sizes in decimal units); [] when the
    report has none (no Dask Client in the kernel)."""
    section = report.get("cluster")
    if not section:
        return []
    verdict = section.get("verdict") or {}
    lines = [f"Dask workers (scheduler {section.get('scheduler', '?')}): "
             f"{str(verdict.get('kind', 'ok')).upper()} - {verdict.get('reason', '')}"]
    if section.get("skipped"):
        lines.append(f"  Not read: {section['skipped']}")
    if section.get("trimmed") and "malloc_trim" not in str(verdict.get("reason")):
        lines.append(f"  malloc_trim gave back {_mb(section['trimmed'])} on the workers before this verdict.")
    workers = section.get("workers") or []
    lines.extend(_worker_line(row) for row in workers[:MAX_WORKERS])
    if len(workers) > MAX_WORKERS:
        lines.append(f"  ... and {len(workers) - MAX_WORKERS} more workers")
    for worker in section.get("lost") or []:
        lines.append(f"  worker {worker.get('name')} ({worker.get('address')}) is gone: {worker.get('why')}")
    for error in section.get("errors") or []:
        lines.append(f"  worker error: {error}")
    if section.get("traced"):
        lines.extend(_traced_lines(section["traced"]))
    return lines
