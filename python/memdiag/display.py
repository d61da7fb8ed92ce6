"""A report as a mime bundle: the memdiag renderer's JSON, and text/plain and text/html for every other frontend.

The HTML is built from escaped text only: a report is read in other people's browsers (nbviewer, VS Code), and type
names, reprs and paths in it are attacker-controlled.
"""
from html import escape

from . import clustertext, memray_probe, protocol, valgrind
from . import lines as per_line
from .verdict import format_bytes


def _mb(n):
    return format_bytes(n) if isinstance(n, (int, float)) else "n/a"


def summary_lines(report):
    """The report as short lines of text (a list of str; sizes in decimal units, durations in seconds), shared by
    text/plain, text/html and the magics."""
    rss = report["rss"]
    verdict = report["verdict"]
    lines = [
        f"memdiag: In[{report['execution_count']}] run {report['run']}: "
        f"{verdict['kind'].upper()} - {verdict['reason']}",
        f"RSS {_mb(rss['before'])} -> {_mb(rss['after'])} ({_mb(rss['after'] - rss['before'])}), "
        f"peak {_mb(rss['peak'])}" + (f", limit {_mb(rss['limit'])}" if rss.get("limit") else "")
        + f"; cell {report['duration_s']:.3f} s, memdiag {report['overhead_s']:.3f} s",
    ]
    traced = report["traced"]
    if traced["enabled"]:
        lines.append(f"Python allocations still held: {_mb(traced['retained'])}")
        for site in traced["top"][:5]:
            where = f"line {site['line']}" if site.get("in_cell") else f"{site['file']}:{site['line']}"
            lines.append(f"  {_mb(site['size']):>9}  {site['count']:>6}x  {where}: {site['code']}")
    objects = report["objects"]
    if objects["new"]:
        lines.append(f"New objects that survive the cell: {objects['new']:,}")
        for row in objects["growth"][:5]:
            lines.append(f"  {row['count']:>8,}  {row['type']} ({_mb(row['size'])})")
    for var in report.get("variables", [])[:5]:
        lines.append(f"  name {var['name']} ({var['status']}, {var['type']}): {_mb(var['delta'])}")
    gc_section = report["gc"]
    if gc_section["collected"] or gc_section["cycles"]:
        lines.append(f"Cyclic garbage collected: {gc_section['collected']:,} objects")
        for group in gc_section["cycles"][:5]:
            lines.append(f"  {group['objects']:,} objects, {_mb(group['size'])}: {', '.join(group['types'][:6])}")
            for edge in group.get("edges", [])[:3]:
                lines.append(f"    {edge}")
    for ref in report["backrefs"][:5]:
        chain = " ".join(f"{link['edge']}" if link["edge"] else link["label"] for link in ref["chain"])
        lines.append(f"Held by: {ref['root']} {chain} -> {ref['type']}")
    native = report["native"]
    if native.get("unexplained"):
        lines.append(f"RSS growth not explained by Python allocations: {_mb(native['unexplained'])}")
    if report.get("imports"):
        lines.append(f"Imported {report['imports']['count']} modules")
    # %%memdiag options, and the Dask workers the cell drove
    for extra in (per_line.summary_lines, memray_probe.summary_lines, valgrind.summary_lines,
                  clustertext.summary_lines):
        lines.extend(extra(report))
    for err in report["errors"]:
        lines.append(f"(probe error: {err})")
    return lines


def to_text(report):
    """The report as text/plain: summary_lines, one per line."""
    return "\n".join(summary_lines(report))


def to_html(report):
    """The report as text/html: the first summary line in bold, the others in a <pre>, all of it escaped; the
    verdict's kind in the data-memdiag-verdict attribute."""
    lines = summary_lines(report)
    kind = escape(report["verdict"]["kind"])
    body = escape("\n".join(lines[1:]))
    return (f'<div class="memdiag-report" data-memdiag-verdict="{kind}"><strong>{escape(lines[0])}</strong>'
            f'<pre style="margin:0">{body}</pre></div>')


def bundle(report):
    """A mime bundle: {protocol.MIME: the report dict, "text/plain": to_text, "text/html": to_html}."""
    return {protocol.MIME: report, "text/plain": to_text(report), "text/html": to_html(report)}


def show(report):
    """Display the report's mime bundle (raw) in the current output area."""
    from IPython.display import display

    display(bundle(report), raw=True)
