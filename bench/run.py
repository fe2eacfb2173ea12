"""`make bench`: every benchmark, each comparing forkv with a real redis-server in the same run."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = ["throughput.py", "persistence.py", "geo.py", "memory.py"]


def main() -> int:
    status = 0
    for name in BENCHES:
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        print(f"\n## {name}\n", flush=True)
        status |= subprocess.call([sys.executable, path] + sys.argv[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
