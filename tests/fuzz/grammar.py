"""A grammar of well-formed Redis 7.0 commands for the stateful differential fuzz
(tests/integration/test_fuzz_grammar.py): lists, hashes, sets, sorted sets (with GEO), strings,
bitmaps, HyperLogLog, SORT, the keyspace commands (EXPIRE family, COPY, RENAME, MOVE, OBJECT
ENCODING, TYPE, DUMP/RESTORE), MULTI/EXEC bodies and EVAL scripts that call them.

Commands draw from a small key space (a few keys per type, and keys shared by all types so that
types collide) and from value pools that cross the encoding thresholds (long values, integers vs
strings, counts above lowered `*-max-listpack-*` settings). Options come in random valid and now
and then invalid combinations. Each step carries a `norm`: how its reply is compared where two
correct servers may differ (hash table order, random picks, the clock). This module only
generates and compares; it talks to no server.
"""

import random

# --- the key space -----------------------------------------------------------------------------

FAMILY_KEYS = {
    "list": ["L1", "L2"],
    "hash": ["H1", "H2"],
    "set": ["S1", "S2", "S3"],
    "zset": ["Z1", "Z2", "Z3"],
    "geo": ["G1", "G2"],
    "string": ["s1", "s2"],
    "bits": ["b1", "b2"],
    "hll": ["p1", "p2"],
}
SHARED_KEYS = ["x", "y"]
ALL_KEYS = sorted({k for ks in FAMILY_KEYS.values() for k in ks} | set(SHARED_KEYS))

# --- value pools -------------------------------------------------------------------------------

INTS = ["0", "1", "2", "3", "5", "7", "10", "12", "-1", "-5", "100", "4096", "65535", "65536",
        "2147483647", "-2147483648", "4294967296", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "18446744073709551615", "-0", "007", "+3", "1 "]
WORDS = ["a", "b", "c", "d", "e", "foo", "bar", "baz", "", b"\x00", b"\xff\xfe", "\u00e9", "A",
         "a b", "1.5", "x1"]
LONG = ["v" * 20, "w" * 45, "x" * 65, "y" * 70, "z" * 300]
FLOATS = ["1.5", "-0.0", "0", "3.0", "0.1", "-2.5", "1e300", "-1e300", "inf", "-inf", "+inf",
          "1e-5", "5e-324", "17", "1.7976931348623157e308", "3.14159", "nan", "abc", "1e400"]
SCORES = ["0", "1", "2", "3", "-1", "1.5", "2.5", "-0.0", "10", "100", "inf", "-inf", "+inf",
          "1e300", "0.1", "1e-5", "4", "5"]
SCORE_BOUNDS = ["-inf", "+inf", "inf", "0", "1", "(1", "2", "(2.5", "-1", "(0", "3", "10", "(inf",
                "1.5", "5", "(-inf", "nan", "x", "(", "100"]
LEX_BOUNDS = ["-", "+", "[a", "(a", "[b", "(c", "[d", "[foo", "(e", "[", "(", "a", b"[\xff", "[0",
              "[5", "(1"]
INDEXES = ["0", "1", "2", "-1", "-2", "3", "5", "-5", "10", "-100", "100", "9223372036854775807",
           "-9223372036854775808", "x"]
COUNTS = ["0", "1", "2", "3", "5", "10", "-1", "-3", "100", "-100", "x", "9223372036854775807"]
CONFIG_SMALL = {
    "hash-max-listpack-entries": ["1", "2", "4", "8"],
    "hash-max-listpack-value": ["1", "4", "8", "16"],
    "set-max-intset-entries": ["1", "2", "4", "8"],
    "zset-max-listpack-entries": ["1", "2", "4", "8"],
    "zset-max-listpack-value": ["1", "4", "8", "16"],
    "list-max-listpack-size": ["-1", "-2", "1", "2", "4"],
}


class Step:
    """One thing to send: argv, and `norm`, how its reply is compared (see compare())."""

    __slots__ = ("argv", "norm", "kind")

    def __init__(self, argv, norm="exact", kind="cmd"):
        self.argv = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        self.norm = norm
        self.kind = kind  # "cmd"; "multi" (argv unused, norm = the body); "dumprestore"

    def __repr__(self):
        if self.kind == "multi":
            return "MULTI[" + "; ".join(repr(s) for s in self.norm[1]) + "]" + self.norm[0]
        if self.kind == "dumprestore":
            return "DUMP/RESTORE%r" % (self.argv,)
        return " ".join(_shown(a) for a in self.argv) + \
            ("" if self.norm == "exact" else "  #" + str(self.norm))


def _shown(arg: bytes) -> str:
    plain = arg and all(33 <= c < 127 and c not in b"'\"\\" for c in arg)
    return arg.decode() if plain else repr(arg)[1:]


def _b(v):
    return v if isinstance(v, bytes) else str(v).encode()


class Grammar:
    """Random steps from a seeded Random. `families` weights the command families."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.families = {
            "list": self.list_cmd, "hash": self.hash_cmd, "set": self.set_cmd,
            "zset": self.zset_cmd, "geo": self.geo_cmd, "string": self.string_cmd,
            "bits": self.bits_cmd, "hll": self.hll_cmd, "keys": self.keys_cmd,
            "sort": self.sort_cmd,
        }
        names = list(self.families)
        # Each sequence leans on a few families, so that its keys grow past the thresholds.
        self.weights = {n: (8 if rng.random() < 0.3 else 1) for n in names}

    # -- helpers ---------------------------------------------------------------------------------

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p):
        return self.rng.random() < p

    def key(self, family):
        if family in FAMILY_KEYS and not self.chance(0.12):
            return self.pick(FAMILY_KEYS[family])
        return self.pick(ALL_KEYS) if self.chance(0.5) else self.pick(SHARED_KEYS)

    def member(self):
        r = self.rng.random()
        if r < 0.45:
            return self.pick(INTS[:14])
        if r < 0.85:
            return self.pick(WORDS)
        if r < 0.93:
            return self.pick(LONG)
        return self.pick(INTS)

    def members(self, lo=1, hi=6):
        return [self.member() for _ in range(self.rng.randint(lo, hi))]

    def count(self):
        return self.pick(COUNTS)

    def index(self):
        return self.pick(INDEXES) if self.chance(0.3) else str(self.rng.randint(-8, 8))

    def opt_case(self, word):
        r = self.rng.random()
        return word.lower() if r < 0.3 else (word.title() if r < 0.4 else word)

    def maybe_break(self, argv):
        """Now and then an invalid combination: a stray token, a dropped or duplicated argument."""
        if len(argv) < 2 or not self.chance(0.04):
            return argv
        argv = list(argv)
        r = self.rng.random()
        i = self.rng.randint(1, len(argv))
        if r < 0.4:
            argv.insert(i, self.pick(["NX", "XX", "COUNT", "LIMIT", "junk", "WITHSCORES", "1", "-1"]))
        elif r < 0.7 and len(argv) > 2:
            del argv[min(i, len(argv) - 1)]
        else:
            argv.insert(i, argv[i - 1])
        return argv

    def step(self):
        names = list(self.families)
        name = self.rng.choices(names, [self.weights[n] for n in names])[0]
        step = self.families[name]()
        if step.kind == "cmd":
            step.argv = [_b(a) for a in self.maybe_break(step.argv)]
        return step

    def steps(self, n):
        out = []
        for _ in range(n):
            r = self.rng.random()
            if r < 0.03:
                out.append(self.multi())
            elif r < 0.06:
                out.append(self.script())
            elif r < 0.075:
                out.append(self.dump_restore())
            elif r < 0.085:  # a threshold moved under existing keys: the next write converts
                name = self.pick(sorted(CONFIG_SMALL))
                out.append(Step(["config", "set", name, self.pick(CONFIG_SMALL[name] + ["0", "128"])]))
            else:
                out.append(self.step())
        return out

    def config(self):
        """CONFIG SET argument lists for a sequence: Redis's defaults, or lowered thresholds."""
        out = [["config", "set", "hash-max-listpack-entries", "128", "hash-max-listpack-value", "64",
                "set-max-intset-entries", "512", "zset-max-listpack-entries", "128",
                "zset-max-listpack-value", "64", "list-max-listpack-size", "-2"]]
        if self.chance(0.6):
            for name, values in CONFIG_SMALL.items():
                if self.chance(0.7):
                    out.append(["config", "set", name, self.pick(values)])
        return out

    # -- composite steps -------------------------------------------------------------------------

    def deterministic_step(self):
        for _ in range(50):
            s = self.step()
            if s.kind == "cmd" and s.norm in ("exact", "sorted", "pairs", "ttl", "pttl", "seconds",
                                              "ms", "geo_sorted", "hash_order", "hash_pairs"):
                return s
        return Step(["ping"])

    def multi(self):
        body = [self.deterministic_step() for _ in range(self.rng.randint(0, 5))]
        if self.chance(0.1) and body:
            body.insert(self.rng.randint(0, len(body)), Step(["lpush"]))  # arity: EXECABORT
        end = "discard" if self.chance(0.1) else "exec"
        return Step([], ("" if end == "exec" else " DISCARD", body), kind="multi")

    def script(self):
        inner = self.deterministic_step()
        call = self.pick(["call", "pcall"])
        body = "return redis.%s(unpack(ARGV))" % call
        if self.chance(0.3):
            body = "local r = redis.%s(unpack(ARGV)) if type(r) == 'table' and r.err then " \
                   "return {err = r.err} end return r" % call
        norm = inner.norm if inner.norm in ("exact", "ttl", "pttl", "seconds", "ms") else "sorted"
        # Lua turns a nested reply into nested tables the same way on both; a set's order may differ.
        return Step(["eval", body, "0"] + inner.argv, norm)

    def dump_restore(self):
        """DUMP a key on one server, RESTORE that payload on both (forkv reads Redis's payloads and
        Redis reads forkv's)."""
        src = self.pick(ALL_KEYS)
        dst = self.pick(ALL_KEYS)
        which = self.pick(["redis", "forkv"])
        opts = []
        if self.chance(0.7):
            opts.append("REPLACE")
        if self.chance(0.2):
            opts += ["ABSTTL"] if self.chance(0.5) else []
        ttl = self.pick(["0", "0", "100000", "-1"])
        return Step([src, dst, which, ttl] + opts, kind="dumprestore")

    # -- lists -----------------------------------------------------------------------------------

    def list_cmd(self):
        k = self.key("list")
        r = self.rng.randrange(20)
        p = self.pick
        if r < 4:
            return Step([p(["lpush", "rpush", "lpushx", "rpushx"]), k] + self.members(1, 8))
        if r == 4:
            argv = [p(["lpop", "rpop"]), k]
            if self.chance(0.5):
                argv.append(self.count())
            return Step(argv)
        if r == 5:
            return Step(["lrange", k, self.index(), self.index()])
        if r == 6:
            return Step(["lindex", k, self.index()])
        if r == 7:
            return Step(["lset", k, self.index(), self.member()])
        if r == 8:
            return Step(["linsert", k, p(["BEFORE", "AFTER", "before", "middle"]), self.member(),
                         self.member()])
        if r == 9:
            return Step(["lrem", k, p(["0", "1", "-1", "2", "-2", "5"]), self.member()])
        if r == 10:
            return Step(["ltrim", k, self.index(), self.index()])
        if r == 11:
            return Step(["llen", k])
        if r == 12:
            argv = ["lpos", k, self.member()]
            for opt, vals in (("RANK", ["1", "-1", "2", "-2", "0", "x"]), ("COUNT", ["0", "1", "2", "-1"]),
                              ("MAXLEN", ["0", "1", "3", "-1"])):
                if self.chance(0.35):
                    argv += [opt, p(vals)]
            return Step(argv)
        if r == 13:
            return Step(["lmove", k, self.key("list"), p(["LEFT", "RIGHT"]), p(["LEFT", "RIGHT", "UP"])])
        if r == 14:
            return Step(["rpoplpush", k, self.key("list")])
        if r == 15:
            keys = [self.key("list") for _ in range(self.rng.randint(1, 3))]
            argv = ["lmpop", str(len(keys) if not self.chance(0.05) else len(keys) + 1)] + keys + \
                [p(["LEFT", "RIGHT"])]
            if self.chance(0.5):
                argv += ["COUNT", self.count()]
            return Step(argv)
        if r == 16:
            return Step([p(["lpush", "rpush"]), k] + [self.pick(LONG)] * self.rng.randint(1, 3))
        return Step([p(["rpush", "lpush"]), k] + [str(i) for i in range(self.rng.randint(1, 20))])

    # -- hashes ----------------------------------------------------------------------------------

    def field_values(self, lo=1, hi=5):
        out = []
        for _ in range(self.rng.randint(lo, hi)):
            out += [self.member(), self.member() if self.chance(0.7) else self.pick(FLOATS)]
        return out

    def hash_cmd(self):
        k = self.key("hash")
        r = self.rng.randrange(20)
        p = self.pick
        if r < 4:
            return Step([p(["hset", "hmset"]), k] + self.field_values())
        if r == 4:
            return Step(["hsetnx", k, self.member(), self.member()])
        if r == 5:
            return Step(["hget", k, self.member()])
        if r == 6:
            return Step(["hmget", k] + self.members(1, 4))
        if r == 7:
            return Step(["hdel", k] + self.members(1, 4))
        if r == 8:
            cmd = p(["hlen", "hkeys", "hvals", "hgetall"])
            return Step([cmd, k], "hash_pairs" if cmd == "hgetall" else "hash_order")
        if r == 9:
            return Step([p(["hstrlen", "hexists"]), k, self.member()])
        if r == 10:
            return Step(["hincrby", k, self.member(), p(INTS + ["1", "-1", "x", "1.5"])])
        if r == 11:
            return Step(["hincrbyfloat", k, self.member(), p(FLOATS)])
        if r == 12:
            argv = ["hrandfield", k]
            if self.chance(0.7):
                argv.append(p(["0", "1", "2", "5", "-1", "-5", "100", "-100"]))
                if self.chance(0.5):
                    argv.append("WITHVALUES")
            return Step(argv, "random")
        if r == 13:
            argv = ["hscan", k, "0", "COUNT", "1000"]
            if self.chance(0.3):
                argv += ["MATCH", p(["*", "a*", "?", "[a-c]*", "1*"])]
            return Step(argv, "scan_pairs")
        if r == 14:
            return Step(["hset", k] + [x for i in range(self.rng.randint(2, 12))
                                       for x in (str(i), self.pick(["a", "1", "x" * 10]))])
        if r == 15:
            return Step(["hset", k, self.member(), self.pick(LONG)])
        return Step(["hset", k, self.member(), self.member()])

    # -- sets ------------------------------------------------------------------------------------

    def set_member(self):
        return self.pick(INTS[:14]) if self.chance(0.6) else self.member()

    def set_cmd(self):
        k = self.key("set")
        r = self.rng.randrange(22)
        p = self.pick
        if r < 5:
            return Step(["sadd", k] + [self.set_member() for _ in range(self.rng.randint(1, 8))])
        if r == 5:
            return Step(["srem", k] + [self.set_member() for _ in range(self.rng.randint(1, 4))])
        if r == 6:
            return Step(["scard", k])
        if r == 7:
            return Step(["sismember", k, self.set_member()])
        if r == 8:
            return Step(["smismember", k] + [self.set_member() for _ in range(self.rng.randint(1, 4))])
        if r == 9:
            return Step(["smembers", k], "set_order")
        if r == 10:
            return Step(["smove", k, self.key("set"), self.set_member()])
        if r == 11:
            argv = ["spop", k]
            if self.chance(0.6):
                argv.append(p(["0", "1", "2", "3", "100", "-1"]))
            return Step(argv, "spop")
        if r == 12:
            argv = ["srandmember", k]
            if self.chance(0.7):
                argv.append(p(["0", "1", "2", "5", "-1", "-5", "100", "-100"]))
            return Step(argv, "random")
        keys = [self.key("set") for _ in range(self.rng.randint(1, 3))]
        if r in (13, 14):
            return Step([p(["sinter", "sunion", "sdiff"])] + keys, "sorted")
        if r in (15, 16):
            return Step([p(["sinterstore", "sunionstore", "sdiffstore"]), self.key("set")] + keys)
        if r == 17:
            argv = ["sintercard", str(len(keys))] + keys
            if self.chance(0.5):
                argv += ["LIMIT", p(["0", "1", "2", "-1"])]
            return Step(argv)
        if r == 18:
            argv = ["sscan", k, "0", "COUNT", "1000"]
            if self.chance(0.3):
                argv += ["MATCH", p(["*", "1*", "?", "[a-c]*"])]
            return Step(argv, "scan_set")
        if r == 19:
            return Step(["sadd", k] + [str(self.rng.randint(-20, 600)) for _ in range(self.rng.randint(1, 12))])
        return Step(["sadd", k] + self.members(1, 3))

    # -- sorted sets -----------------------------------------------------------------------------

    def score(self):
        return self.pick(SCORES) if self.chance(0.85) else self.pick(FLOATS)

    def zadd(self, k):
        argv = ["zadd", k]
        opts = []
        if self.chance(0.3):
            opts.append(self.pick(["NX", "XX"]))
        if self.chance(0.25):
            opts.append(self.pick(["GT", "LT"]))
        if self.chance(0.25):
            opts.append("CH")
        incr = self.chance(0.12)
        if incr:
            opts.append("INCR")
        self.rng.shuffle(opts)
        argv += [self.opt_case(o) for o in opts]
        pairs = 1 if incr and not self.chance(0.1) else self.rng.randint(1, 6)
        same = k == "Z3" and self.chance(0.8)  # a key for lex ranges: one score for all
        for _ in range(pairs):
            argv += ["0" if same else self.score(), self.member()]
        return Step(argv)

    def zrange_args(self):
        mode = self.rng.randrange(3)
        rev = self.chance(0.3)
        if mode == 0:
            lo, hi = self.index(), self.index()
            extra = []
        elif mode == 1:
            lo, hi = self.pick(SCORE_BOUNDS), self.pick(SCORE_BOUNDS)
            extra = ["BYSCORE"]
        else:
            lo, hi = self.pick(LEX_BOUNDS), self.pick(LEX_BOUNDS)
            extra = ["BYLEX"]
        if rev:
            extra.append("REV")
        if self.chance(0.3):
            extra += ["LIMIT", self.pick(["0", "1", "2", "-1"]), self.pick(["0", "1", "2", "-1", "5"])]
        if self.chance(0.2):
            self.rng.shuffle(extra)
        return [lo, hi] + extra

    def zset_cmd(self):
        k = self.key("zset")
        r = self.rng.randrange(34)
        p = self.pick
        if r < 6:
            return self.zadd(k)
        if r == 6:
            return Step(["zincrby", k, self.score(), self.member()])
        if r == 7:
            return Step(["zrem", k] + self.members(1, 4))
        if r == 8:
            return Step(["zcard", k])
        if r == 9:
            return Step(["zscore", k, self.member()])
        if r == 10:
            return Step(["zmscore", k] + self.members(1, 4))
        if r == 11:
            return Step([p(["zrank", "zrevrank"]), k, self.member()])
        if r == 12:
            return Step(["zcount", k, p(SCORE_BOUNDS), p(SCORE_BOUNDS)])
        if r == 13:
            return Step(["zlexcount", k, p(LEX_BOUNDS), p(LEX_BOUNDS)], "lex")
        if r in (14, 15):
            argv = ["zrange", k] + self.zrange_args()
            if self.chance(0.4):
                argv.append("WITHSCORES")
            return Step(argv, "lex" if "BYLEX" in argv else "exact")
        if r == 16:
            argv = [p(["zrangebyscore", "zrevrangebyscore"]), k, p(SCORE_BOUNDS), p(SCORE_BOUNDS)]
            if self.chance(0.4):
                argv.append("WITHSCORES")
            if self.chance(0.3):
                argv += ["LIMIT", p(["0", "1", "-1"]), p(["1", "2", "-1", "0"])]
            return Step(argv)
        if r == 17:
            argv = [p(["zrangebylex", "zrevrangebylex"]), k, p(LEX_BOUNDS), p(LEX_BOUNDS)]
            if self.chance(0.3):
                argv += ["LIMIT", p(["0", "1", "-1"]), p(["1", "2", "-1", "0"])]
            return Step(argv, "lex")
        if r == 18:
            argv = [p(["zrevrange", "zrange"]), k, self.index(), self.index()]
            if self.chance(0.5):
                argv.append("WITHSCORES")
            return Step(argv)
        if r == 19:
            argv = ["zrangestore", self.key("zset"), k] + self.zrange_args()
            return Step(argv, "lex" if "BYLEX" in argv else "exact")
        if r == 20:
            return Step(["zremrangebyrank", k, self.index(), self.index()])
        if r == 21:
            return Step(["zremrangebyscore", k, p(SCORE_BOUNDS), p(SCORE_BOUNDS)])
        if r == 22:
            return Step(["zremrangebylex", k, p(LEX_BOUNDS), p(LEX_BOUNDS)], "lex")
        if r == 23:
            argv = [p(["zpopmin", "zpopmax"]), k]
            if self.chance(0.6):
                argv.append(self.count())
            return Step(argv)
        if r == 24:
            keys = [self.key("zset") for _ in range(self.rng.randint(1, 3))]
            argv = ["zmpop", str(len(keys))] + keys + [p(["MIN", "MAX"])]
            if self.chance(0.5):
                argv += ["COUNT", self.count()]
            return Step(argv)
        keys = [self.key("zset") if not self.chance(0.15) else self.key("set")
                for _ in range(self.rng.randint(1, 3))]
        nk = str(len(keys))
        if r in (25, 26, 27, 28):
            op = p(["zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore"])
            argv = [op] + ([self.key("zset")] if op.endswith("store") else []) + [nk] + keys
            if op not in ("zdiff", "zdiffstore"):
                if self.chance(0.4):
                    argv += ["WEIGHTS"] + [p(["1", "2", "0", "-1", "1.5", "inf", "x"]) for _ in keys]
                if self.chance(0.4):
                    argv += ["AGGREGATE", p(["SUM", "MIN", "MAX", "avg"])]
            if not op.endswith("store") and self.chance(0.5):
                argv.append("WITHSCORES")
            return Step(argv)
        if r == 29:
            argv = ["zintercard", nk] + keys
            if self.chance(0.4):
                argv += ["LIMIT", p(["0", "1", "3", "-1"])]
            return Step(argv)
        if r == 30:
            argv = ["zrandmember", k]
            if self.chance(0.7):
                argv.append(p(["0", "1", "2", "5", "-1", "-5", "100", "-100"]))
                if self.chance(0.5):
                    argv.append("WITHSCORES")
            return Step(argv, "random")
        if r == 31:
            argv = ["zscan", k, "0", "COUNT", "1000"]
            return Step(argv, "scan_pairs")
        if r == 32:
            argv = ["zadd", k]
            for i in range(self.rng.randint(2, 12)):
                argv += [str(self.rng.randint(0, 5)), self.pick(["m", "n", "o"]) + str(i)]
            return Step(argv)
        return Step(["zadd", k, self.score(), self.pick(LONG)])

    # -- geo -------------------------------------------------------------------------------------

    GEO_MEMBERS = ["Palermo", "Catania", "Rome", "Paris", "edge", "a", "b", "c", "1", "far"]

    def geo_point(self, member):
        base = {"Palermo": ("13.361389", "38.115556"), "Catania": ("15.087269", "37.502669"),
                "Rome": ("12.496366", "41.902782"), "Paris": ("2.352222", "48.856613"),
                "edge": ("180", "85.05112878"), "far": ("-179.9", "-85.05")}
        if member in base:
            return base[member]
        h = sum(ord(ch) * 31 ** i for i, ch in enumerate(member))
        return ("%.6f" % (13 + (h % 1000) / 400.0), "%.6f" % (37 + (h % 777) / 300.0))

    def geo_cmd(self):
        k = self.key("geo")
        r = self.rng.randrange(12)
        p = self.pick
        if r < 3:
            argv = ["geoadd", k]
            for o in ("NX", "XX", "CH"):
                if self.chance(0.12):
                    argv.append(o)
            for _ in range(self.rng.randint(1, 4)):
                m = p(self.GEO_MEMBERS)
                lon, lat = self.geo_point(m) if not self.chance(0.05) else (p(["200", "0", "x"]), "90")
                argv += [lon, lat, m]
            return Step(argv)
        if r == 3:
            return Step(["geopos", k] + [p(self.GEO_MEMBERS + ["nope"]) for _ in range(self.rng.randint(1, 3))])
        if r == 4:
            argv = ["geodist", k, p(self.GEO_MEMBERS), p(self.GEO_MEMBERS)]
            if self.chance(0.6):
                argv.append(p(["m", "km", "mi", "ft", "KM", "yd"]))
            return Step(argv)
        if r == 5:
            return Step(["geohash", k] + [p(self.GEO_MEMBERS + ["nope"]) for _ in range(self.rng.randint(0, 3))])
        store = r in (9, 10)
        argv = ["geosearchstore", self.key("geo"), k] if store else ["geosearch", k]
        if self.chance(0.5):
            argv += ["FROMMEMBER", p(self.GEO_MEMBERS)]
        else:
            argv += ["FROMLONLAT", p(["13.361389", "15", "0", "-179"]), p(["38.115556", "37.5", "0", "-85"])]
        if self.chance(0.5):
            argv += ["BYRADIUS", p(["100", "200", "0", "1000", "5000"]), p(["km", "m", "mi"])]
        else:
            argv += ["BYBOX", p(["100", "400", "0", "20000"]), p(["100", "300", "1"]), p(["km", "m", "ft"])]
        sort = None
        if self.chance(0.6):
            sort = p(["ASC", "DESC"])
            argv.append(sort)
        anyopt = False
        if self.chance(0.4):
            argv += ["COUNT", p(["1", "2", "3", "0", "-1"])]
            if self.chance(0.3) and not store:  # which ANY finds first is the scan's business
                argv.append("ANY")
                anyopt = True
        if store:
            if self.chance(0.4):
                argv.append("STOREDIST")
        else:
            for o in ("WITHCOORD", "WITHDIST", "WITHHASH"):
                if self.chance(0.35):
                    argv.append(o)
        norm = "exact" if sort and not anyopt else ("geo_sorted" if not anyopt else "length")
        if r == 11:  # the older forms
            if self.chance(0.5):
                argv = [p(["georadius", "georadius_ro"]), k, "15", "37", p(["200", "100", "1000"]), "km"]
            else:
                argv = [p(["georadiusbymember", "georadiusbymember_ro"]), k, p(self.GEO_MEMBERS),
                        p(["200", "100", "1000", "0"]), p(["km", "m"])]
            for o in ("WITHCOORD", "WITHDIST", "WITHHASH"):
                if self.chance(0.35):
                    argv.append(o)
            if self.chance(0.5):
                argv.append(p(["ASC", "DESC"]))
                norm = "exact"
            else:
                norm = "geo_sorted"
        if store and norm != "exact":
            norm = "exact" if not anyopt else "length"  # a count reply; the keyspace check compares
        return Step(argv, norm)

    # -- strings and bitmaps ---------------------------------------------------------------------

    def string_value(self):
        r = self.rng.random()
        if r < 0.35:
            return self.pick(INTS)
        if r < 0.5:
            return self.pick(FLOATS)
        if r < 0.85:
            return self.pick(WORDS)
        return self.pick(LONG)

    def string_cmd(self):
        k = self.key("string")
        r = self.rng.randrange(24)
        p = self.pick
        if r < 4:
            argv = ["set", k, self.string_value()]
            if self.chance(0.3):
                argv.append(p(["NX", "XX"]))
            if self.chance(0.3):
                argv += p([["EX", p(["100", "1000", "0", "-1"])], ["PX", p(["100000", "0"])],
                           ["EXAT", p(["4000000000", "1", "0"])], ["PXAT", "4000000000000"],
                           ["KEEPTTL"]])
            if self.chance(0.2):
                argv.append("GET")
            self.rng.shuffle(argv[3:]) if self.chance(0.1) else None
            return Step(argv, "exact")
        if r == 4:
            return Step(["get", k])
        if r == 5:
            argv = ["getex", k]
            if self.chance(0.7):
                argv += p([["EX", "1000"], ["PX", "100000"], ["EXAT", "4000000000"], ["PERSIST"],
                           ["EX", "0"], ["PXAT", "4000000000000"], ["EX", "-1"]])
            return Step(argv)
        if r == 6:
            return Step([p(["getdel", "strlen"]), k])
        if r == 7:
            return Step(["getset", k, self.string_value()])
        if r == 8:
            return Step([p(["setnx"]), k, self.string_value()])
        if r == 9:
            cmd = p(["setex", "psetex"])  # TTLs far beyond a sequence, or none at all (an error)
            ttl = p(["1000", "100000", "0", "-5"]) if cmd == "setex" else p(["1000000", "0", "-5"])
            return Step([cmd, k, ttl, self.string_value()])
        if r == 10:
            argv = [p(["mset", "msetnx"])]
            for _ in range(self.rng.randint(1, 3)):
                argv += [self.key("string"), self.string_value()]
            return Step(argv)
        if r == 11:
            return Step(["mget"] + [self.key("string") for _ in range(self.rng.randint(1, 4))])
        if r == 12:
            return Step(["append", k, self.string_value()])
        if r == 13:
            return Step(["setrange", k, p(["0", "1", "3", "10", "-1", "64"]), self.string_value()])
        if r == 14:
            return Step([p(["getrange", "substr"]), k, self.index(), self.index()])
        if r in (15, 16):
            return Step([p(["incr", "decr"]), k])
        if r == 17:
            return Step([p(["incrby", "decrby"]), k, p(INTS + ["x", "1.5"])])
        if r in (18, 19):
            return Step(["incrbyfloat", k, p(FLOATS + INTS)])
        if r == 20:
            argv = ["lcs", k, self.key("string")]
            opt = self.rng.randrange(4)
            if opt == 1:
                argv.append("LEN")
            elif opt == 2:
                argv.append("IDX")
                if self.chance(0.5):
                    argv += ["MINMATCHLEN", p(["0", "1", "2", "-1"])]
                if self.chance(0.5):
                    argv.append("WITHMATCHLEN")
            return Step(argv)
        return Step(["set", k, self.string_value()])

    def bits_cmd(self):
        k = self.key("bits")
        r = self.rng.randrange(12)
        p = self.pick
        if r < 3:
            return Step(["setbit", k, str(self.rng.choice([self.rng.randint(0, 40), self.rng.randint(0, 300)])),
                         p(["0", "1", "1", "2"])])
        if r == 3:
            return Step(["getbit", k, str(self.rng.randint(0, 50))])
        if r == 4:
            argv = ["bitcount", k]
            if self.chance(0.6):
                argv += [self.index(), self.index()]
                if self.chance(0.5):
                    argv.append(p(["BYTE", "BIT", "bit"]))
            return Step(argv)
        if r == 5:
            argv = ["bitpos", k, p(["0", "1"])]
            if self.chance(0.6):
                argv.append(self.index())
                if self.chance(0.6):
                    argv.append(self.index())
                    if self.chance(0.5):
                        argv.append(p(["BYTE", "BIT"]))
            return Step(argv)
        if r == 6:
            op = p(["AND", "OR", "XOR", "NOT"])
            srcs = [self.key("bits") for _ in range(1 if op == "NOT" and self.chance(0.9) else self.rng.randint(1, 3))]
            return Step(["bitop", op, self.key("bits")] + srcs)
        if r in (7, 8):
            argv = [p(["bitfield", "bitfield", "bitfield_ro"]), k]
            for _ in range(self.rng.randint(1, 3)):
                t = p(["u8", "i8", "u1", "i16", "u63", "i64", "u4", "i5"])
                off = p(["0", "1", "7", "#1", "#0", "100"])
                op = self.rng.randrange(4)
                if op == 0 or argv[0] == "bitfield_ro":
                    argv += ["GET", t, off]
                elif op == 1:
                    argv += ["SET", t, off, p(INTS[:14])]
                elif op == 2:
                    argv += ["INCRBY", t, off, p(["1", "-1", "100", "1000"])]
                else:
                    argv += ["OVERFLOW", p(["WRAP", "SAT", "FAIL"])]
            return Step(argv)
        if r == 9:
            return Step(["set", k, p(["\xff\xf0\x00", "foobar", "", "\x00\x00\x01", "1"])])
        return Step(["get", k])

    def hll_cmd(self):
        k = self.key("hll")
        r = self.rng.randrange(6)
        if r < 3:
            n = self.rng.choice([1, 3, 10, 200])
            return Step(["pfadd", k] + [self.member() if n < 10 else str(self.rng.randint(0, 5000))
                                        for _ in range(n)])
        if r == 3:
            return Step(["pfcount"] + [self.key("hll") for _ in range(self.rng.randint(1, 3))])
        if r == 4:
            return Step(["pfmerge", self.key("hll")] + [self.key("hll") for _ in range(self.rng.randint(0, 3))])
        return Step(["get", k])

    # -- keys ------------------------------------------------------------------------------------

    def any_key(self):
        return self.pick(ALL_KEYS)

    def keys_cmd(self):
        k = self.any_key()
        r = self.rng.randrange(22)
        p = self.pick
        if r < 2:
            keys = [self.any_key() for _ in range(self.rng.randint(1, 3))]
            return Step([p(["del", "unlink", "exists", "touch"])] + keys)
        if r in (2, 3):
            return Step(["type", k])
        if r in (4, 5, 6):
            return Step(["object", "encoding", k])
        if r in (7, 8):
            cmd = p(["expire", "pexpire", "expireat", "pexpireat"])
            val = {"expire": ["100", "1000", "0", "-1", "9223372036854775807", "x"],
                   "pexpire": ["100000", "1000000", "0", "-1"],
                   "expireat": ["4000000000", "4100000000", "1", "0"],
                   "pexpireat": ["4000000000000", "4100000000000", "1"]}[cmd]
            argv = [cmd, k, p(val)]
            if self.chance(0.4):
                argv.append(p(["NX", "XX", "GT", "LT", "nx"]))
                if self.chance(0.1):
                    argv.append(p(["NX", "XX", "GT", "LT"]))
            return Step(argv)
        if r == 9:
            return Step(["persist", k])
        if r == 10:
            cmd = p(["ttl", "pttl", "expiretime", "pexpiretime"])
            return Step([cmd, k], {"ttl": "ttl", "pttl": "pttl", "expiretime": "seconds",
                                   "pexpiretime": "ms"}[cmd])
        if r in (11, 12):
            return Step([p(["rename", "renamenx"]), k, self.any_key()])
        if r in (13, 14):
            argv = ["copy", k, self.any_key()]
            if self.chance(0.5):
                argv.append("REPLACE")
            if self.chance(0.1):
                argv += ["DB", p(["0", "1"])]
            return Step(argv)
        if r == 15:
            return Step(["move", k, p(["1", "0"])])
        if r == 16:
            return Step(["object", "refcount", k])
        return Step(["exists", k])

    def sort_cmd(self):
        k = self.key("list") if self.chance(0.5) else self.pick(FAMILY_KEYS["set"] + FAMILY_KEYS["zset"] + SHARED_KEYS)
        p = self.pick
        argv = [p(["sort", "sort", "sort_ro"]), k]
        by = None
        if self.chance(0.3):
            by = p(["nosort", "s*", "H1->*", "nokey*", "b*"])
            argv += ["BY", by]
        limit = self.chance(0.3)
        if limit:
            argv += ["LIMIT", p(["0", "1", "-1"]), p(["1", "2", "5", "-1"])]
        for _ in range(self.rng.randint(0, 2) if self.chance(0.3) else 0):
            argv += ["GET", p(["#", "s*", "H1->*", "H2->a", "x"])]
        if self.chance(0.3):
            argv.append(p(["ASC", "DESC"]))
        if self.chance(0.4):
            argv.append("ALPHA")
        if argv[0] == "sort" and self.chance(0.25):
            argv += ["STORE", self.key("list")]
        return Step(argv, "sort")


def sort_norm(argv, kind, encoding):
    """How a SORT's reply compares, from the type and encoding of the key sorted: None when the
    step must be skipped. A sorted set, or a set in a hash table, is read in its hash table's
    order (seeded per process), and SORT keeps that order for ties (ALPHA by a pattern: equal or
    missing values) and for a set it does not sort (a BY pattern without `*`, unless STORE
    makes Redis sort it as text). A sorted set it does not sort comes in score order."""
    words = [a.lower() for a in argv]
    by = words[words.index(b"by") + 1] if b"by" in words[2:-1] else None
    dontsort = by is not None and b"*" not in by
    store = b"store" in words
    hashed = kind == b"zset" or (kind == b"set" and encoding != b"intset")
    if dontsort:
        varies = kind == b"set" and encoding != b"intset" and not store
    else:
        varies = hashed and by is not None and b"alpha" in words
    if not varies:
        # ALPHA compares C strings (strcoll) unless it stores: "" and "\0" tie
        return "c_strings" if hashed and b"alpha" in words and not store else "exact"
    if store:
        return None
    return "length" if b"limit" in words else "sorted"


# --- replies -----------------------------------------------------------------------------------

class Err(str):
    """An error reply (its text without the leading '-')."""


def parse_reply(buf: bytes, pos: int = 0):
    """One RESP2/RESP3 reply from buf at pos: (value, new pos), or None when incomplete. Types
    stay apart: errors are Err, statuses ("+", text), doubles (",", raw), maps ("%", pairs)."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    t, line = buf[pos:pos + 1], buf[pos + 1:end]
    nxt = end + 2
    if t == b"+":
        return ("+", line), nxt
    if t == b"-":
        return Err(line.decode("latin-1")), nxt
    if t == b":":
        return int(line), nxt
    if t in (b",", b"(", b"#"):
        return (t.decode(), line), nxt
    if t == b"_":
        return None, nxt
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, nxt
        if len(buf) < nxt + n + 2:
            return None
        data = buf[nxt:nxt + n]
        return (data if t == b"$" else (t.decode(), data)), nxt + n + 2
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return ("nullarray",), nxt
        items = []
        count = n * 2 if t in (b"%", b"|") else n
        for _ in range(count):
            got = parse_reply(buf, nxt)
            if got is None:
                return None
            item, nxt = got
            items.append(item)
        if t == b"*":
            return items, nxt
        return (t.decode(), items), nxt
    raise ValueError("bad reply type %r at %d" % (t, pos))


def _key(v):
    return repr(v)


def _pairs(items):
    return sorted((_key(items[i]), _key(items[i + 1])) for i in range(0, len(items) - 1, 2))


def _sorted_value(v):
    if isinstance(v, list):
        return sorted((_sorted_value(x) for x in v), key=_key)
    if isinstance(v, tuple) and v and v[0] in ("~", "%"):
        return (v[0], sorted(_sorted_value(x) for x in v[1]) if v[0] == "~" else _pairs(v[1]))
    return v


def normalise(norm, reply):
    """A reply as compared under `norm` (the same on both servers' replies)."""
    if isinstance(reply, Err) or norm in ("exact",):
        return reply
    if norm in ("sorted", "set_order", "geo_sorted", "hash_order"):
        return _sorted_value(reply)
    if norm == "hash_pairs":
        if isinstance(reply, list):
            return _pairs(reply)
        return _sorted_value(reply)
    if norm in ("scan_pairs", "scan_set"):
        if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):
            items = reply[1]
            return [reply[0], _pairs(items) if norm == "scan_pairs" else sorted(items, key=_key)]
        return reply
    if norm == "c_strings":  # the order as far as C strings tell (a LIMIT may split a tie)
        if isinstance(reply, list):
            return [x.split(b"\0")[0] if isinstance(x, bytes) else x for x in reply]
        return reply
    if norm == "length":
        if isinstance(reply, list):
            return ("length", len(reply))
        return reply
    return reply


def close(norm, a, b) -> bool:
    """Whether two replies agree for the clock-dependent norms (TTLs counted down between the
    servers' replies)."""
    if not (isinstance(a, int) and isinstance(b, int)):
        return a == b
    if a < 0 or b < 0:
        return a == b
    slack = {"ttl": 1, "seconds": 1, "pttl": 1500, "ms": 1500}[norm]
    return abs(a - b) <= slack
