"""capi-gc watch bootstrap: `capi-gc verify --run CMD` puts this directory first on PYTHONPATH, so every Python
process CMD starts (subprocesses and test workers included) imports it from `site` before the program runs.

It watches the C-extension modules the program imports and the types they create, and checks sampled instances
the way one would by hand in a REPL: the type has Py_TPFLAGS_HAVE_GC, the instance is tracked, the type is among
gc.get_referents(instance), and the objects the instance's attributes hold are among its referents. At exit it runs
gc.collect() to a fixed point (the number of rounds is reported) and lists the extension instances still alive
that nothing reachable holds. One JSON record per process goes to $CAPI_GC_WATCH_DIR.

Rules it keeps, because the program must behave exactly as without it:
- It imports only modules the interpreter has already imported by the time `site` runs sitecustomize: sys, gc,
  atexit, os (the wall clock is os.times(), not the time module). json is imported only at exit, when the
  program is done, to write the record.
  The extension suffixes come from `_imp.extension_suffixes()`: `_imp` is the built-in module the import system
  itself runs on, always in sys.modules at start-up (importlib.machinery, by contrast, is often not imported yet).
- It never writes to stdout, never raises into the program, never changes the exit code, and sets no attribute
  on any of the program's objects (attributes are only read).
- A sitecustomize of the user's own (on the original sys.path) is imported after this one, with this directory
  removed from sys.path; usercustomize is untouched (site imports it itself, this file does not shadow it).
"""

import sys
import gc
import atexit
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_OUT = os.environ.get("CAPI_GC_WATCH_DIR")
_HAVE_GC = 1 << 14
_HEAPTYPE = 1 << 9
_IMMUTABLE = 1 << 8
# Checked instances per type; after that a type is only counted.
_SAMPLES_PER_TYPE = 25
# Sampling at collections takes at most this share of the program's wall time.
_TIME_SHARE = 0.05


def _now():
    # os.times() rather than time.perf_counter(): the time module is not always imported at start-up.
    return os.times()[4]


class _Watch(object):
    def __init__(self):
        self.started = _now()
        self.spent = 0.0
        self.modules = {}  # name -> {"file": ..., "name": ...}
        self.module_ids = set()
        self.types = {}  # id(type) -> record dict
        self.type_refs = {}  # id(type) -> type (kept alive only while watched; released at exit)
        self.samples = 0
        self.passes = 0
        self.suffixes = ()
        self.errors = []
        self.include_stdlib = os.environ.get("CAPI_GC_WATCH_STDLIB") == "1"
        self.seen_modules = 0
        try:
            import _imp  # always already imported: the import system is built on it

            self.suffixes = tuple(_imp.extension_suffixes())
        except Exception:
            self.suffixes = (".so", ".pyd")
        bases = []
        for p in (getattr(sys, "base_prefix", None), getattr(sys, "base_exec_prefix", None)):
            if p:
                bases.append(os.path.join(os.path.abspath(p), ""))
        self.stdlib_prefixes = tuple(set(bases))

    # ---- what is watched ----

    def is_stdlib(self, path):
        if self.include_stdlib:
            return False
        if not path.startswith(self.stdlib_prefixes):
            return False
        parts = path.replace("\\", "/").split("/")
        return "site-packages" not in parts and "dist-packages" not in parts

    def scan_modules(self):
        mods = sys.modules
        if len(mods) == self.seen_modules:
            return
        self.seen_modules = len(mods)
        for name, mod in list(mods.items()):
            if mod is None or id(mod) in self.module_ids:
                continue
            f = getattr(mod, "__file__", None) if type(mod).__name__ == "module" else None
            if not isinstance(f, str) or not f.endswith(self.suffixes):
                continue
            path = os.path.abspath(f)
            if self.is_stdlib(path):
                continue
            self.module_ids.add(id(mod))
            self.modules[name] = {"name": name, "file": path}
            try:
                for v in list(vars(mod).values()):
                    if isinstance(v, type):
                        self.add_type(v)
            except Exception as e:
                self.note_error("module %s: %r" % (name, e))

    def owner(self, t):
        # Heap types keep __module__ in their dict, static types in tp_name ("pkg.mod.Type"): t.__module__ reads both.
        try:
            m = t.__module__
        except Exception:
            return None
        if not isinstance(m, str):
            return None
        if m in self.modules:
            return m
        # A type whose module names a package an extension lives in (pkg.Type made by pkg._ext).
        for name in self.modules:
            if m and (name.startswith(m + ".") or m.startswith(name + ".")):
                return name
        return None

    def add_type(self, t):
        k = id(t)
        if k in self.types:
            return self.types[k]
        mod = self.owner(t)
        if mod is None:
            return None
        flags = t.__flags__
        rec = {
            "module": mod,
            "name": "%s.%s" % (t.__module__, t.__qualname__),
            "heap": bool(flags & _HEAPTYPE),
            "gc": bool(flags & _HAVE_GC),
            "immutable": bool(flags & _IMMUTABLE),
            "instances": 0,
            "untracked": 0,
            "type_not_visited": 0,
            "members": {},  # attribute -> [checked, not visited]
            "attrs": None,
            "alive_at_exit": 0,
            "leaked": 0,
            "leak_chain": None,
            "refs_unaccounted": None,
        }
        self.types[k] = rec
        self.type_refs[k] = t
        return rec

    def find_new_types(self, objs):
        for o in objs:
            if type(o) is type or isinstance(o, type):
                if id(o) not in self.types and getattr(o, "__flags__", 0) & _HEAPTYPE:
                    try:
                        self.add_type(o)
                    except Exception:
                        pass

    # ---- checks on an instance ----

    def attributes(self, t, rec):
        if rec["attrs"] is None:
            names = []
            for klass in t.__mro__:
                if klass is object or self.owner(klass) is None:
                    continue
                for name, d in list(klass.__dict__.items()):
                    kind = type(d).__name__
                    if kind in ("member_descriptor", "getset_descriptor") and name not in ("__dict__", "__weakref__") \
                            and name not in names:
                        names.append(name)
            rec["attrs"] = names[:16]
        return rec["attrs"]

    def check(self, obj, t, rec):
        rec["instances"] += 1
        if rec["instances"] > _SAMPLES_PER_TYPE:
            return
        if not rec["gc"]:
            return
        tracked = gc.is_tracked(obj)
        if not tracked:
            rec["untracked"] += 1
            return
        refs = gc.get_referents(obj)
        if rec["heap"] and not any(r is t for r in refs):
            rec["type_not_visited"] += 1
        ids = set(map(id, refs))
        for name in self.attributes(t, rec):
            try:
                d = None
                for klass in t.__mro__:
                    if name in klass.__dict__:
                        d = klass.__dict__[name]
                        break
                v1 = d.__get__(obj, t)
                v2 = d.__get__(obj, t)
            except Exception:
                continue
            # Only an object the instance stores (the same object twice) that the collector follows counts:
            # a getter that computes a fresh value, or a string, is nothing tp_traverse must visit.
            if v1 is not v2 or not gc.is_tracked(v1):
                continue
            m = rec["members"].setdefault(name, [0, 0])
            m[0] += 1
            if id(v1) not in ids and not self.holds(refs, v1):
                m[1] += 1
        d = self.instance_dict(obj, t)
        if isinstance(d, dict) and d:
            m = None
            for v in list(d.values()):
                if gc.is_tracked(v):
                    m = rec["members"].setdefault("__dict__", [0, 0])
                    m[0] += 1
                    if not self.holds(refs, v):
                        m[1] += 1
                    break

    @staticmethod
    def instance_dict(obj, t):
        """The instance's __dict__ through the type's descriptor (never the instance's own __getattr__)."""
        for klass in t.__mro__:
            d = klass.__dict__.get("__dict__")
            if d is not None and type(d).__name__ == "getset_descriptor":
                try:
                    return d.__get__(obj, t)
                except Exception:
                    return None
        return None

    @staticmethod
    def holds(refs, v):
        for r in refs:
            if r is v:
                return True
        for r in refs:
            if isinstance(r, (dict, list, tuple)):
                for x in gc.get_referents(r):
                    if x is v:
                        return True
        return False

    def sample(self, objs, deadline):
        types = self.types
        n = 0
        for o in objs:
            t = type(o)
            rec = types.get(id(t))
            if rec is None:
                continue
            if rec["instances"] >= _SAMPLES_PER_TYPE:
                rec["instances"] += 1
                continue
            try:
                self.check(o, t, rec)
            except Exception as e:
                self.note_error("check %s: %r" % (rec["name"], e))
            n += 1
            if (n & 15) == 0 and _now() > deadline:
                break
        self.samples += n

    def with_referents(self, objs):
        """The objects and what they refer to: instances of types without HAVE_GC are never in gc.get_objects()."""
        try:
            return list(objs) + gc.get_referents(*objs)
        except Exception:
            return list(objs)

    def note_error(self, text):
        if len(self.errors) < 20:
            self.errors.append(text)

    # ---- gc.callbacks ----

    def on_gc(self, phase, info):
        if phase != "start" or info.get("generation") != 0 or not _OUT:
            return
        t0 = _now()
        elapsed = t0 - self.started
        if self.spent > 0.002 + elapsed * _TIME_SHARE:
            return
        try:
            self.passes += 1
            self.scan_modules()
            if not self.types and not self.modules:
                return
            young = gc.get_objects(0)
            self.find_new_types(young)
            self.sample(self.with_referents(young), t0 + 0.01)
        except Exception as e:
            self.note_error("gc callback: %r" % (e,))
        finally:
            self.spent += _now() - t0

    # ---- exit ----

    def at_exit(self):
        if not _OUT:
            return
        t0 = _now()
        record = {"version": 1, "pid": os.getpid(), "argv": list(sys.argv), "python": "%d.%d.%d" % sys.version_info[:3],
                  "executable": sys.executable}
        try:
            self.scan_modules()
            rounds = []
            while len(rounds) < 10:
                n = gc.collect()
                rounds.append(n)
                if n == 0:
                    break
            record["collect_rounds"] = rounds
            everything = gc.get_objects()
            self.find_new_types(everything)
            alive = [o for o in self.with_referents(everything) if id(type(o)) in self.types]
            # Every live instance is checked again at exit (those made and stored by the program end up here).
            seen = set()
            unique = []
            for o in alive:
                if id(o) not in seen:
                    seen.add(id(o))
                    unique.append(o)
            self.sample(unique, t0 + 2.0)
            hidden = {}
            budget = _now() + 2.0
            for o in unique:
                t = type(o)
                self.types[id(t)]["alive_at_exit"] += 1
                # A live instance whose reference to its type the collector cannot see (untracked, no GC, no visit).
                if hidden is not None and (not gc.is_tracked(o) or not any(r is t for r in gc.get_referents(o))):
                    hidden[id(t)] = hidden.get(id(t), 0) + 1
                    if _now() > budget:
                        hidden = None
            if hidden is not None:
                self.type_refcounts(hidden)
            t = None
            reachable = self.reachable()
            for o in unique:
                if id(o) in reachable:
                    continue
                rec = self.types[id(type(o))]
                rec["leaked"] += 1
                if rec["leak_chain"] is None:
                    rec["leak_chain"] = self.chain(o, (everything, alive, unique))
            del alive, unique, everything
        except Exception as e:
            self.note_error("exit: %r" % (e,))
        record["modules"] = list(self.modules.values())
        record["types"] = [r for r in self.types.values()]
        for r in record["types"]:
            r["members"] = [{"attribute": k, "checked": v[0], "not_visited": v[1]} for k, v in r["members"].items()]
            r.pop("attrs", None)
        record["samples"] = self.samples
        record["passes"] = self.passes
        record["seconds_sampling"] = round(self.spent, 4)
        record["seconds_at_exit"] = round(_now() - t0, 4)
        record["errors"] = self.errors
        self.type_refs.clear()
        self.write(record)

    def type_refcounts(self, hidden):
        """For each heap type: references to it that nothing the collector sees accounts for (gc.get_referrers and
        the live instances that hide theirs), less the same count for a Python class made here, which has none.
        Every instance freed by a tp_dealloc that does not Py_DECREF its type leaves one such reference behind."""

        class _Control(object):
            pass

        base = self.unseen_refs(_Control)
        for k, t in list(self.type_refs.items()):
            rec = self.types[k]
            if rec["heap"]:
                rec["refs_unaccounted"] = self.unseen_refs(t) - base - hidden.get(k, 0)
        t = None

    @staticmethod
    def unseen_refs(t):
        me = sys._getframe()
        visible = 0
        for r in gc.get_referrers(t):
            if r is not me:
                for x in gc.get_referents(r):
                    if x is t:
                        visible += 1
        return sys.getrefcount(t) - visible

    def reachable(self):
        """ids of every object reachable through tp_traverse from the modules, the running frames and gc.garbage."""
        roots = [sys.modules, gc.garbage, sys.__dict__]
        me = sys._getframe()
        try:
            # Other threads' frames; this thread runs only atexit functions now, and this frame holds the
            # lists of every object at exit, which must not make them reachable.
            roots.extend(f for f in sys._current_frames().values() if f is not me)
        except Exception:
            pass
        seen = set(map(id, roots))
        frontier = roots
        while frontier:
            nxt = []
            for o in gc.get_referents(*frontier):
                k = id(o)
                if k not in seen:
                    seen.add(k)
                    nxt.append(o)
            frontier = nxt
        return seen

    def chain(self, o, mine):
        """What holds o, as the collector sees it: type names of gc.get_referrers, up to three levels."""
        out = []
        cur = o
        skip = set(map(id, mine))
        for _ in range(3):
            holders = [r for r in gc.get_referrers(cur) if id(r) not in skip and type(r).__name__ != "frame"]
            skip.add(id(holders))
            if not holders:
                out.append("(no referrer the collector can see)")
                break
            h = holders[0]
            out.append(type(h).__name__)
            cur = h
        return out

    def write(self, record):
        try:
            import json  # imported only now, at exit, when the program is done

            os.makedirs(_OUT, exist_ok=True)
            final = os.path.join(_OUT, "watch-%d-%d.json" % (os.getpid(), id(record)))
            tmp = final + ".tmp"
            with open(tmp, "w") as f:
                json.dump(record, f, default=repr)
            os.replace(tmp, final)
        except Exception as e:
            try:
                sys.stderr.write("capi-gc watch: cannot write the record: %r\n" % (e,))
            except Exception:
                pass


def _chain_sitecustomize():
    """Imports the sitecustomize this file shadows, if any, from sys.path without this directory."""
    me = sys.modules.pop("sitecustomize", None)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    try:
        try:
            import sitecustomize  # noqa: F401  the user's own
        except ImportError as e:
            if getattr(e, "name", None) != "sitecustomize":
                raise
            if me is not None:
                sys.modules["sitecustomize"] = me
    except Exception as e:
        # What site.py itself does with a failing sitecustomize.
        sys.stderr.write("Error in sitecustomize; set PYTHONVERBOSE for traceback:\n%s: %s\n" % (type(e).__name__, e))


def _install():
    if not _OUT:
        return
    watch = _Watch()
    # Registered before the program runs, so it runs after every atexit function the program registers.
    atexit.register(watch.at_exit)
    gc.callbacks.append(watch.on_gc)


try:
    _install()
except Exception:
    pass
_chain_sitecustomize()
