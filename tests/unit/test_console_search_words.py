"""The inbox's word search never hands typed syntax to to_tsquery (db/console_repository.search_words)."""

from mostrador.db.console_repository import search_words


def test_words_become_required_prefixes_and_nothing_else_gets_through():
    assert search_words("Nevera Samsung") == "nevera:* & samsung:*"
    assert search_words("a & b | !c:* (x) 'y' <-> z_w") == "a:* & b:* & c:* & x:* & y:* & z:* & w:*"
    assert search_words("¿Tienen café?") == "tienen:* & café:*"
    assert search_words("+58 412-555") == "58:* & 412:* & 555:*"
    assert search_words("   ?!  ") is None
    assert search_words(" ".join(str(n) for n in range(20))).count("&") == 7  # at most eight words
