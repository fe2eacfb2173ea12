from tests.fuzz.parser_fuzz import run


def test_parser_fuzz_one_second():
    assert run(1.0, seed=12345) > 50
