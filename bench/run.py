"""`make bench`: every benchmark, each comparing forkv with a real redis-server in the same run."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# (script, its own arguments); the arguments given to `make bench`/run.py go to every script.
BENCHES = [
    ("throughput.py", []),
    ("persistence.py", []),
    ("persistence.py", ["--only", "collections"]),  # issues 11 and 12: BGSAVE with collections
    ("zsets.py", []),  # issue 12: sorted-set cost from 1K to 1M members
    ("geo.py", []),
    ("memory.py", []),
]


def main() -> int:
    status = 0
    for name, args in BENCHES:
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        print(f"\n## {' '.join([name] + args)}\n", flush=True)
        status |= subprocess.call([sys.executable, path] + args + sys.argv[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
