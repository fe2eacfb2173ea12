"""The server: config, connections, dispatch, the keyspace and the commands.

`protocol` is imported first because it installs the loader that chooses between compiled modules
and their .py sources (protocol/_loader.py) before any compiled server module is imported.
"""

import protocol  # noqa: F401
