# Augments server/keyspace.py when Cython compiles it (setup.py): Keyspace and Database become
# extension types whose fields are struct members, so `self.data` or `db.ks.dirty` inside that
# module is a pointer load instead of a generic attribute lookup (a hundred-odd instructions
# each). The .py file stays the one source and runs unchanged as plain Python (its __slots__ name
# the same fields). Every field is public: other modules read and write them as attributes;
# server/_fastpath.c finds the ones it reads by their offsets (its slot_offset). A field typed
# dict/list/set holds exactly that type (or None).

cdef class Keyspace:
    cdef public object clock, dirty, expired_keys, hits, misses, events, emit, tracking, plain
    cdef public dict watched, blocking
    cdef public list ready, dbs, _lfu_ints
    cdef public set ready_set
    cdef public object lru_clock, lfu_minutes, lru_new, lfu, lfu_log_factor, lfu_decay_time, _lfu_new


cdef class Database:
    cdef public Keyspace ks
    cdef public object index, _scan_next, _sweep_pos
    cdef public dict data, expires, delta, delta_exp, scans, lru, delta_lru
    cdef public list _sweep
