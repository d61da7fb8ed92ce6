"""`why` (magic and comm) names every holder, including untracked dicts gc.get_referrers cannot see."""


def test_why_names_untracked_holders_and_not_its_own_machinery(shared_kernel):
    k = shared_kernel
    k.execute('%load_ext memdiag', cell_id="why-load")
    k.execute('holder = {"data": bytearray(3_000_000)}\nblob = holder["data"]', cell_id="why-setup")
    out = k.execute("%memdiag why blob", cell_id="why-ask")["stdout"]
    # The dict is untracked (its only value is a bytearray): found by identity under the user's names.
    assert "holder['data']" in out, out
    # The inspector's own closure cell is not an answer.
    assert "cell_contents" not in out, out


def test_why_names_namespaces_as_the_user_does(shared_kernel):
    """A global is named `df`, a module's global `trialmod.table`, an item of a named dict `frames['df']`: never
    `dict['df']` (issue 15, item 7)."""
    k = shared_kernel
    k.execute('%load_ext memdiag', cell_id="why-ns-load")
    k.execute("import sys, types\nmod = types.ModuleType('trialmod')\nsys.modules['trialmod'] = mod\n"
              "df = [[0] * 10 for _ in range(10)]\nmod.table = df\nframes = {'df': df}", cell_id="why-ns-setup")
    out = k.execute("%memdiag why df", cell_id="why-ns-ask")["stdout"]
    referrers = [line.split("referred to by ", 1)[1] for line in out.splitlines() if "referred to by " in line]
    assert "df" in referrers, out
    assert "trialmod.table" in referrers, out
    assert "frames['df']" in referrers, out
    assert not any(r.startswith("dict[") for r in referrers), out
