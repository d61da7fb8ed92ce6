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
