# Augments server/client.py when Cython compiles it (setup.py): Client, _Flow and Stats (the
# server's INFO counters, defined in client.py for this reason) become extension types whose
# fields are struct members, so the attribute traffic of every read (`self.out`, `self.closing`,
# `self.blocked`, `self.flow.paused`, `self.stats.commands += n`, ...) is pointer loads and stores
# instead of generic attribute lookups (~145 instructions a load, ~170 a store). The .py file stays
# the one source and runs unchanged as plain Python (its __slots__ name the same fields). Every
# field is public: other modules and tests read and write them as attributes. Those that
# server/_fastpath.c finds by offset (its slot_offset writes a dict to probe a field) stay untyped
# objects; stats, flow and parser are typed so that their own fields are struct loads too.

from protocol.parser cimport RequestParser


cdef class Stats:
    cdef public object connections_received, commands, net_input_bytes, net_output_bytes
    cdef public object rejected_connections, total_forks, latest_fork_usec, ops_samples
    cdef public object error_replies


cdef class _Flow:
    cdef public object transport, paused, reading


cdef class Client:
    cdef public object server, id, transport, db, proto, name, lib_name, lib_ver
    cdef public object authenticated, multi, multi_error, in_exec, watched, watch_dirty, created
    cdef public object last_interaction, last_command, addr, laddr, closing, fd, no_evict
    cdef public object no_touch, guarded, pending, soft_since, blocked, subs, out, monitor
    cdef public object reply_mode, in_script, tracking, limited, rb_size, rb_peak, rb_peak_reset, user
    cdef public Stats stats
    cdef public _Flow flow
    cdef public RequestParser parser
    cdef object __weakref__

    cpdef _run(self, commands, start)
