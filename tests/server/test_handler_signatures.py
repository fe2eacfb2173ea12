"""Every command handler has the typed signature of server/table.py's Handler:
`(client: Client, argv: Argv) -> Reply` (issue 15), so a new command module that forgets it fails."""

import inspect

from server.table import Argv, Reply, all_commands


def _handlers():
    for cmd in all_commands().values():
        if cmd.handler is not None:
            yield cmd.name, cmd.handler
        for sub in cmd.subcommands.values():
            yield sub.name, sub.handler


def test_every_handler_is_typed():
    untyped = []
    for name, handler in _handlers():
        notes = getattr(handler, "__annotations__", {})
        # as written ("Client", Argv, Reply); a compiled module may keep them as their text
        typed = (_is(notes.get("client"), None, "Client") and _is(notes.get("argv"), Argv, "Argv")
                 and _is(notes.get("return"), Reply, "Reply"))
        if not typed:
            untyped.append((name, notes))
        params = list(inspect.signature(handler).parameters)
        assert params[:2] == ["client", "argv"], name
    assert not untyped


def _is(note, value, text: str) -> bool:
    return (value is not None and note is value) or note in (text, f"'{text}'", f'"{text}"')
