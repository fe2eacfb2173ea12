"""The latency monitor (Redis's latency.c): with `latency-monitor-threshold` milliseconds set,
events that took at least that long are sampled per event class ("command", "fast-command",
"fork"...), one sample per second (the worst), the last 160 kept, with each class's all-time max.

It must not: time anything itself (dispatch and persistence report their durations).
"""

import time
from collections import deque

HISTORY = 160  # LATENCY_TS_LEN


class LatencyMonitor:
    __slots__ = ("events", "threshold")

    def __init__(self):
        self.events = {}  # name -> [deque of [unix seconds, ms], all-time max ms]
        self.threshold = 0  # ms; 0: off

    def add(self, event: str, ms: int) -> None:
        """latencyAddSampleIfNeeded: record `ms` for `event` if the monitor is on and it is over
        the threshold; samples of the same second merge into their maximum."""
        if not self.threshold or ms < self.threshold:
            return
        now = int(time.time())
        entry = self.events.get(event)
        if entry is None:
            entry = self.events[event] = [deque(maxlen=HISTORY), 0]
        samples = entry[0]
        if samples and samples[-1][0] == now:
            samples[-1][1] = max(samples[-1][1], ms)
        else:
            samples.append([now, ms])
        entry[1] = max(entry[1], ms)

    def reset(self, names) -> int:
        if not names:
            n = len(self.events)
            self.events.clear()
            return n
        return sum(1 for name in names if self.events.pop(name, None) is not None)
