# Augments protocol/parser.py when Cython compiles it (setup.py): RequestParser becomes an
# extension type whose fields are struct members, so the state checks of every read (`take`:
# eight fields) are pointer loads instead of generic attribute lookups (a hundred-odd
# instructions each). The .py file stays the one source and runs unchanged as plain Python (its
# __slots__ name the same fields). Every field is public: the client and tests read and write
# some of them as attributes.

cdef class RequestParser:
    cdef public object _reader, _inline, _carry, _scanner, _pending, _held, _doomed, _head
    cdef public object _suspect, max_bulk_len, auth_required, error

    cpdef take(self, data)  # called by the client's every read: a C call, not a method lookup
