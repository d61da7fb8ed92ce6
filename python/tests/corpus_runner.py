"""Runs a leak-corpus case (../shared/leak-corpus/README.md format) through a real kernel and checks its
expectations."""
import json
import re

from kernel import Kernel


def run_case(case):
    """Returns {cell id: [reports, one per run]} from the comm, as a frontend would receive them."""
    kernel = Kernel()
    try:
        kernel.execute("%load_ext memdiag")
        by_cell = {}
        for cell in case["cells"]:
            for _ in range(cell.get("runs", 1)):
                result = kernel.execute(cell["code"], cell_id=cell["id"], allow_error=cell.get("allow_error", False))
                reports = [m["content"]["data"]["report"] for m in result["comm"]
                           if m["msg_type"] == "comm_msg" and m["content"]["data"].get("type") == "report"]
                assert len(reports) == 1, f"cell {cell['id']}: {len(reports)} reports"
                by_cell.setdefault(cell["id"], []).append(reports[0])
        return by_cell
    finally:
        kernel.close()


def _labels(report):
    return {report["verdict"]["kind"], *report["verdict"]["flags"]}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _type_matches(name, wanted):
    """`DataFrame` matches `DataFrame` and `pandas.DataFrame` (bare or qualified, README of the corpus)."""
    return any(name == w or name.endswith("." + w) for w in _as_list(wanted))


def _mentions(backrefs, words):
    """Whole words, case-sensitive, anywhere in the chains."""
    text = json.dumps(backrefs)

    def pattern(word):  # a word that ends in punctuation (`Out[`) has no boundary on that side
        head = r"(?<![A-Za-z0-9_])" if re.match(r"\w", word) else ""
        tail = r"(?![A-Za-z0-9_])" if re.search(r"\w$", word) else ""
        return head + re.escape(word) + tail

    return any(re.search(pattern(word), text) for word in words)


CHECKS = {
    "verdict_in": lambda r, v: bool(_labels(r) & set(v)),
    "verdict_not_in": lambda r, v: not (_labels(r) & set(v)),
    "bytes_per_run_between": lambda r, v: r["verdict"]["bytes_per_run"] is not None
    and v[0] <= r["verdict"]["bytes_per_run"] <= v[1],
    "top_code_contains": lambda r, v: any(v in site.get("code", "") for site in r["traced"]["top"]),
    "backrefs_mention_any": lambda r, v: _mentions(r["backrefs"], v),
    "cycle_types_include": lambda r, v: any(v in t for group in r["gc"]["cycles"] for t in group["types"]),
    "growth_type_in": lambda r, v: any(_type_matches(g["type"], v) for g in r["objects"]["growth"]),
    "native_unexplained_at_least": lambda r, v: (r["native"]["unexplained"] or 0) >= v,
}


def check(case, by_cell):
    """Returns a list of failure descriptions (empty when every expectation holds)."""
    failures = []
    for expect in case["expect"]:
        reports = by_cell[expect["cell"]]
        chosen = {"first": reports[:1], "last": reports[-1:]}.get(expect["run"], reports)
        for key, value in expect.items():
            if key in ("cell", "run"):
                continue
            results = [CHECKS[key](r, value) for r in chosen]
            ok = any(results) if expect["run"] == "any" else all(results)
            if not ok:
                summary = [(r["run"], r["mode"], r["verdict"], r["traced"]["top"][:2], r["backrefs"][:2],
                            r["native"], r["gc"]) for r in chosen]
                failures.append(f"{expect['cell']} {expect['run']} {key}={value!r}: {json.dumps(summary)[:3000]}")
    return failures
