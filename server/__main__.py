"""`python -m server` / `forkv-server`: parse the configuration, start the event loop, serve."""

import os
import sys

from server import config as config_mod
from server import log


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-v", "--version"):
        print(f"forkv server v={config_mod.FORKV_VERSION} redis_version={config_mod.REDIS_VERSION}")
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print("Usage: forkv-server [/path/to/forkv.conf] [--port N] [--bind ADDR ...] [--<directive> <value> ...]")
        return 0
    try:
        config = config_mod.load(argv)
    except config_mod.FatalConfigError as exc:
        sys.stderr.write(exc.text)
        sys.stderr.flush()
        return 1
    log.configure(config["loglevel"], config["logfile"])
    log.notice("oO0OoO0OoO0Oo forkv is starting oO0OoO0OoO0Oo")
    log.notice(f"forkv version={config_mod.FORKV_VERSION}, redis_version={config_mod.REDIS_VERSION}, "
               f"bits=64, pid={os.getpid()}, just started")
    if config.config_file is None and not argv:
        log.warning("Warning: no config file specified, using the default config. In order to "
                    "specify a config file use forkv-server /path/to/forkv.conf")
    else:
        log.notice("Configuration loaded")

    import uvloop

    from server.app import Server

    server = Server(config)
    log.notice("Server initialized")
    if not server.acl.load_at_startup():
        return 1
    if not server.persistence.load_at_startup():
        return 1
    code = uvloop.run(_serve(server))
    sys.stdout.flush()
    return code


async def _serve(server):
    return await server.serve()


if __name__ == "__main__":
    sys.exit(main())
