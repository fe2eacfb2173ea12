"""INFO text: Redis 7.0's sections and field names, filled from the server's state.

Each section is a function returning (name, fields); the persistence section's fields come from
`server.persistence` (server/wiring.py).
"""

import os
import platform
import resource
import sys
import time

from server import functions, scripting
from server.config import FORKV_VERSION, REDIS_VERSION
from server.table import all_commands, hist_upper

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "modules", "errorstats", "cluster", "keyspace")
ALL_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                "commandstats", "errorstats", "latencystats", "cluster", "keyspace")


def _human(n: int) -> str:
    for unit, size in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _server(server):
    now = time.time()
    uptime = int(time.monotonic() - server.start_monotonic)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("forkv_version", FORKV_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", server.tcp_port),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.hz()),
        ("configured_hz", server.config["hz"]),
        ("lru_clock", int(now) & 0xFFFFFF),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", server.config.config_file or ""),
        ("io_threads_active", 0),
    ]


def _clients(server):
    # Redis reports the largest buffers of the last few seconds; forkv the largest right now.
    clients = list(server.clients.values())
    max_in = max((c.parser.buffered(0) for c in clients), default=0)
    max_out = max((c.output_buffer_size() for c in clients), default=0)
    return [
        ("connected_clients", len(server.clients)),
        ("cluster_connections", 0),
        ("maxclients", server.config["maxclients"]),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", max_out),
        ("blocked_clients", server.blocked_clients),
        ("tracking_clients", server.tracking.clients),
        ("clients_in_timeout_table", sum(1 for c in clients if c.blocked is not None and c.blocked.timer is not None)),
    ]


_EMPTY_FUNCTIONS_VM = 32768  # Redis 7.0's figures with no library loaded
_EMPTY_FUNCTIONS = 184


def _memory(server):
    rss = rss_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    maxmemory = server.config["maxmemory"]
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 0
    clients_normal = sum(c.output_buffer_size() for c in server.clients.values())
    # forkv's allocator is CPython's (pymalloc over malloc): the allocator_* figures are the RSS,
    # with no fragmentation measured. The Lua figures are each runtime's heap (Redis's
    # empty-engine figures until one is made); the scripts' and libraries' memory an estimate
    # of their bodies, names and index entries.
    vm_eval, scripts_eval, cached = scripting.memory(server)
    registry = functions.peek(server)
    libraries = fcount = 0
    vm_functions, used_functions = _EMPTY_FUNCTIONS_VM, _EMPTY_FUNCTIONS
    if registry is not None:
        libraries, fcount = len(registry.current.libraries), len(registry.current.functions)
        vm_functions = registry.lua_memory() or _EMPTY_FUNCTIONS_VM
        used_functions += registry.memory()
    return [
        ("used_memory", rss),
        ("used_memory_human", _human(rss)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", _human(peak)),
        ("used_memory_peak_perc", f"{100.0 * rss / peak if peak else 100:.2f}%"),
        ("used_memory_overhead", 0),
        ("used_memory_startup", 0),
        ("used_memory_dataset", rss),
        ("used_memory_dataset_perc", "100.00%"),
        ("allocator_allocated", rss),
        ("allocator_active", rss),
        ("allocator_resident", rss),
        ("total_system_memory", total),
        ("total_system_memory_human", _human(total)),
        ("used_memory_lua", vm_eval),
        ("used_memory_vm_eval", vm_eval),
        ("used_memory_lua_human", _human(vm_eval)),
        ("used_memory_scripts_eval", scripts_eval),
        ("number_of_cached_scripts", cached),
        ("number_of_functions", fcount),
        ("number_of_libraries", libraries),
        ("used_memory_vm_functions", vm_functions),
        ("used_memory_vm_total", vm_eval + vm_functions),
        ("used_memory_vm_total_human", _human(vm_eval + vm_functions)),
        ("used_memory_functions", used_functions),
        ("used_memory_scripts", scripts_eval + used_functions),
        ("used_memory_scripts_human", _human(scripts_eval + used_functions)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", _human(maxmemory)),
        ("maxmemory_policy", server.config["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", clients_normal),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "pymalloc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", server.keyspace.lazyfreed),
    ]


# The AOF and module-fork fields of Redis 7.0's persistence section, as an instance without AOF
# reports them.
AOF_DISABLED_FIELDS = [
    ("aof_enabled", 0),
    ("aof_rewrite_in_progress", 0),
    ("aof_rewrite_scheduled", 0),
    ("aof_last_rewrite_time_sec", -1),
    ("aof_current_rewrite_time_sec", -1),
    ("aof_last_bgrewrite_status", "ok"),
    ("aof_rewrites", 0),
    ("aof_rewrites_consecutive_failures", 0),
    ("aof_last_write_status", "ok"),
    ("aof_last_cow_size", 0),
    ("module_fork_in_progress", 0),
    ("module_fork_last_cow_size", 0),
]


def _persistence(server):
    return server.persistence.info_fields() + AOF_DISABLED_FIELDS


def _stats(server):
    stats = server.stats
    ops, in_kbps, out_kbps = server.instantaneous()
    ks = server.keyspace
    return [
        ("total_connections_received", stats.connections_received),
        ("total_commands_processed", stats.commands),
        ("instantaneous_ops_per_sec", ops),
        ("total_net_input_bytes", stats.net_input_bytes),
        ("total_net_output_bytes", stats.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{in_kbps:.2f}"),
        ("instantaneous_output_kbps", f"{out_kbps:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", stats.rejected_connections),
        ("sync_full", 0),
        ("sync_partial_ok", 0),
        ("sync_partial_err", 0),
        ("expired_keys", ks.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", 0),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", ks.hits),
        ("keyspace_misses", ks.misses),
        ("pubsub_channels", len(server.pubsub.channels)),
        ("pubsub_patterns", len(server.pubsub.patterns)),
        ("pubsubshard_channels", len(server.pubsub.shard)),
        ("latest_fork_usec", stats.latest_fork_usec),
        ("total_forks", stats.total_forks),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", len(server.tracking.table)),
        ("tracking_total_items", server.tracking.items),
        ("tracking_total_prefixes", len(server.tracking.prefixes)),
        ("unexpected_error_replies", 0),
        ("total_error_replies", server.stats.error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", 0),
        ("total_writes_processed", 0),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", server.reply_buffer_shrinks),
        ("reply_buffer_expands", server.reply_buffer_expands),
    ]


def _replication(server):
    return [
        ("role", "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", server.run_id),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _cpu(server):
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"),
        ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{kids.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{kids.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{me.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{me.ru_utime:.6f}"),
    ]


def _cluster(server):
    return [("cluster_enabled", 0)]


def _keyspace(server):
    fields = []
    now = server.keyspace.clock()
    for db in server.keyspace.dbs:
        keys, expires, avg = db.summary(now)
        if keys:
            fields.append((f"db{db.index}", f"keys={keys},expires={expires},avg_ttl={avg}"))
    return fields


_SECTIONS = {
    "server": ("Server", _server),
    "clients": ("Clients", _clients),
    "memory": ("Memory", _memory),
    "persistence": ("Persistence", _persistence),
    "stats": ("Stats", _stats),
    "replication": ("Replication", _replication),
    "cpu": ("CPU", _cpu),
    "modules": ("Modules", lambda s: []),
    "commandstats": ("Commandstats", lambda s: _commandstats()),
    "errorstats": ("Errorstats", lambda s: [(f"errorstat_{code}", f"count={n}")
                                            for code, n in sorted(s.error_counts.items())]),
    "latencystats": ("Latencystats", lambda s: _latencystats(s)),
    "cluster": ("Cluster", _cluster),
    "keyspace": ("Keyspace", _keyspace),
}


def _commandstats() -> list:
    """cmdstat_<name>: every command (and subcommand) called or refused at least once, by name."""
    fields = []
    for cmd in sorted(all_commands().values(), key=lambda c: c.name):
        for each in (cmd, *sorted(cmd.subcommands.values(), key=lambda c: c.name)):
            st = each.stats
            if st.calls or st.rejected or st.failed:
                per_call = st.usec / st.calls if st.calls else 0.0
                fields.append((f"cmdstat_{each.name}", f"calls={st.calls},usec={st.usec},usec_per_call="
                               f"{per_call:.2f},rejected_calls={st.rejected},failed_calls={st.failed}"))
    return fields


def percentile_ns(hist: list, total: int, percentile: float) -> int:
    """The duration (ns) at `percentile` of a duration histogram, as hdr_value_at_percentile:
    the top of the bucket where the rounded count at that percentile is reached."""
    target = max(int(percentile / 100 * total + 0.5), 1)
    seen = 0
    for i, n in enumerate(hist):
        seen += n
        if seen >= target:
            return hist_upper(i)
    return 0


def _latencystats(server) -> list:
    """latency_percentiles_usec_<command>: the latency-tracking-info-percentiles of each command
    called since the stats were reset."""
    wanted = [float(p) for p in server.config["latency-tracking-info-percentiles"].split()]
    fields = []
    for cmd in sorted(all_commands().values(), key=lambda c: c.name):
        for each in (cmd, *sorted(cmd.subcommands.values(), key=lambda c: c.name)):
            hist = each.stats.histogram()
            if not hist:
                continue
            total = sum(hist)
            parts = [f"p{_percent(p)}={percentile_ns(hist, total, p) / 1000:.3f}" for p in wanted]
            fields.append((f"latency_percentiles_usec_{each.name}", ",".join(parts)))
    return fields


def _percent(p: float) -> str:
    text = f"{p:f}".rstrip("0").rstrip(".")
    return text or "0"


def histogram_usec(hist: list) -> list:
    """LATENCY HISTOGRAM's cumulative counts at power-of-two boundaries from 1024 ns, labelled in
    microseconds as Redis's log iteration labels them (1, 2, 4, 8, 16, 32, 65, 131...)."""
    out = []
    total = sum(hist)
    previous = 0
    upper = 1024
    while previous < total:
        cumulative = sum(n for i, n in enumerate(hist) if hist_upper(i) < upper)
        if upper >= hist_upper(len(hist) - 1):
            cumulative = total
        if cumulative > previous:
            out.append((upper // 1000, cumulative))
        previous = cumulative
        upper *= 2
    return out


def render(server, names) -> str:
    """INFO [section ...]: no names = the default sections; 'all'/'everything'/'default' work."""
    wanted = []
    for name in names or ["default"]:
        name = name.lower()
        if name in ("all", "everything"):
            wanted.extend(ALL_SECTIONS)
        elif name == "default":
            wanted.extend(DEFAULT_SECTIONS)
        elif name in _SECTIONS:
            wanted.append(name)
    parts = []
    seen = set()
    # Redis prints the sections in its own fixed order, whatever the order asked for.
    wanted.sort(key=lambda name: ALL_SECTIONS.index(name) if name in ALL_SECTIONS else len(ALL_SECTIONS))
    for name in wanted:
        if name in seen:
            continue
        seen.add(name)
        title, fn = _SECTIONS[name]
        lines = [f"# {title}"] + [f"{k}:{v}" for k, v in fn(server)]
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts)
