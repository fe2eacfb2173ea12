"""Connects `persistence/` to the server: load at startup, SAVE/BGSAVE duties in the cron, the final
save at shutdown. Until persistence lands this attaches nothing."""


def attach_persistence(server) -> None:
    return None
