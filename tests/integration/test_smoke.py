import redis


def test_ping_both(any_r):
    assert any_r.ping() is True
    assert any_r.echo(b"hi") == b"hi"


def test_unknown_command_error(any_r):
    try:
        any_r.execute_command("FOO", "a", "b")
    except redis.ResponseError as exc:
        assert str(exc) == "unknown command 'FOO', with args beginning with: 'a' 'b' "
    else:
        raise AssertionError("no error")
