# Augments server/keyspace.py when Cython compiles it (setup.py): Keyspace and Database become
# extension types whose fields are struct members, so `self.data` or `db.ks.dirty` inside that
# module is a pointer load instead of a generic attribute lookup (a hundred-odd instructions
# each). The .py file stays the one source and runs unchanged as plain Python (its __slots__ name
# the same fields). Every field is public: other modules read and write them as attributes;
# server/_fastpath.c finds the ones it reads by their offsets (its slot_offset). A field typed
# dict/list/set holds exactly that type (or None).

cimport cython


cdef class Keyspace:
    cdef public object clock, dirty, expired_keys, lazyfreed, hits, misses, events, emit, tracking, plain, paused
    cdef public dict watched, blocking
    cdef public list ready, dbs, _lfu_ints
    cdef public set ready_set, watched_stale
    cdef public object lru_clock, lfu_minutes, lru_new, lfu, lfu_log_factor, lfu_decay_time, _lfu_new

    cpdef touched_field(self, field)
    cpdef signal_modified(self, index, key)


cdef class Database:
    cdef public Keyspace ks
    cdef public object index, _scan_next, _sweep_pos
    cdef public bytes last_key
    cdef public str last_k
    cdef public dict data, expires, delta, delta_exp, scans, lru, delta_lru
    cdef public list _sweep

    # Called from within the module as direct C calls (and from Python as before); the locals
    # that hold a field are typed too (a local is a plain object otherwise: infer_types=False).
    cpdef size(self)
    @cython.locals(b=bytes, last=bytes)
    cpdef str _k(self, key)
    cpdef _value(self, k)
    cpdef _deadline(self, k)
    @cython.locals(d=dict)
    cpdef _remove(self, k)
    cpdef _put_deadline(self, k, when)
    @cython.locals(d=dict)
    cpdef _drop_deadline(self, k)
    cpdef _put_field(self, k, field)
    cpdef settle(self)
    cpdef get(self, key, touch=*)
    @cython.locals(ks=Keyspace, expires=dict, delta_exp=dict, lru=dict)
    cpdef _live(self, k, touch, now)
    @cython.locals(ks=Keyspace)
    cpdef notify(self, kind, event, key)
    @cython.locals(ks=Keyspace)
    cpdef read(self, key, touch=*)
    @cython.locals(ks=Keyspace, expires=dict, delta_exp=dict)
    cpdef read_deadline(self, key)
    @cython.locals(ks=Keyspace, expires=dict, delta_exp=dict)
    cpdef read_ttl(self, key)
    cpdef read_string(self, key)
    cpdef get_string(self, key)
    cpdef read_typed(self, key, kind)
    cpdef get_typed(self, key, kind)
    cpdef write_typed(self, key, kind, new)
    @cython.locals(ks=Keyspace)
    cpdef modified(self, key, value, count=*)
    cpdef exists(self, key)
    @cython.locals(expires=dict, delta_exp=dict)
    cpdef expire_at(self, key)
    cpdef store(self, key, value, expire_at=*, keepttl=*, field=*)
    @cython.locals(ks=Keyspace, delta=dict)
    cpdef _put(self, k, key, value, expire_at, keepttl, field)
    @cython.locals(ks=Keyspace)
    cpdef touched(self, key, count=*)
    cpdef delete(self, key)
    @cython.locals(ks=Keyspace, delta_exp=dict)
    cpdef set_expire(self, key, when_ms)
    @cython.locals(ks=Keyspace, n=cython.longlong)
    cpdef store_in(self, key, value, raw, long long unit)
    @cython.locals(ks=Keyspace, delta_exp=dict, n=cython.longlong)
    cpdef expire_in(self, key, raw, long long unit)
    cpdef persist(self, key)
    cpdef _expire(self, k)


cpdef _through(changes, base, k)
@cython.locals(b=bytes, n=cython.Py_ssize_t, i=cython.Py_ssize_t, c=cython.int, v=cython.longlong)
cpdef long long short_count(raw)
@cython.locals(b=bytes)
cpdef str _str_key(key)
