"""capi-gc watch bootstrap: `capi-gc verify --run CMD` puts this directory first on PYTHONPATH, so every Python
process CMD starts (subprocesses and test workers included) imports it from `site` before the program runs.

It watches the C-extension modules the program imports and the types they create, and checks sampled instances
the way one would by hand in a REPL: the type has Py_TPFLAGS_HAVE_GC, the instance is tracked, the type is among
gc.get_referents(instance), and the objects the instance's attributes hold are among its referents. At exit it runs
gc.collect() to a fixed point (the number of rounds is reported) and lists the extension instances still alive
that nothing reachable holds. One JSON record per process goes to $CAPI_GC_WATCH_DIR.

Beside the record, each process keeps three small files there, named by the same token:
- fault-TOKEN.txt: faulthandler's dump when the process dies from a fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE,
  SIGILL). faulthandler is enabled into this file only when the program did not enable it itself at start-up
  (-X faulthandler, PYTHONFAULTHANDLER); then the program's own setting stays, and so does its stream.
- phase-TOKEN.txt: one line, rewritten in place, saying what the process was doing: running the program, in a
  collection of generation G, capi-gc checking an instance of type T, loading module M in a subinterpreter, in
  Py_Finalize; and the watched types whose instances were newest among the young objects at the last collection.
- witness-TOKEN.txt: a line per Py_Finalize witness that fired: "freed KEY" when a watched extension module's
  namespace was freed with the module, "cleared KEY" when Py_Finalize had to clear the namespace of a module that
  was still alive (never freed). The witness is an object stored in the module's namespace as
  `__capi_gc_witness__` (the one attribute the bootstrap sets, and only on extension modules it watches).
At exit, on 3.12 and later, each multi-phase module watched is also loaded in a fresh subinterpreter that is then
destroyed, a few rounds, and sys.getallocatedblocks() is compared with the same rounds without the module.

Rules it keeps, because the program must behave exactly as without it:
- It imports only modules the interpreter has already imported by the time `site` runs sitecustomize: sys, gc,
  atexit, os, _weakref (the wall clock is os.times(), not the time module), and the built-in faulthandler. json,
  ctypes (to read each module's PyModuleDef) and the subinterpreter module are imported only at exit, when the
  program is done.
  The extension suffixes come from `_imp.extension_suffixes()`: `_imp` is the built-in module the import system
  itself runs on, always in sys.modules at start-up (importlib.machinery, by contrast, is often not imported yet).
- It never writes to stdout, never raises into the program, never changes the exit code, and sets no attribute
  on any of the program's objects (attributes are only read) but the witness in each watched extension module;
  the one stdlib function it replaces is os._exit, by one that writes this process's record, then exits as asked.
- A sitecustomize of the user's own (on the original sys.path) is imported after this one, with this directory
  removed from sys.path; usercustomize is untouched (site imports it itself, this file does not shadow it).
"""

import sys
import gc
import atexit
import os
import _weakref

_HERE = os.path.dirname(os.path.abspath(__file__))
_OUT = os.environ.get("CAPI_GC_WATCH_DIR")
_HAVE_GC = 1 << 14
_HEAPTYPE = 1 << 9
_IMMUTABLE = 1 << 8
# Checked instances per type; after that a type is only counted.
_SAMPLES_PER_TYPE = 25
# Sampling at collections takes at most this share of the program's wall time.
_TIME_SHARE = 0.05
# The name of the Py_Finalize witness in each watched extension module's namespace.
_WITNESS = "__capi_gc_witness__"
# Subinterpreter rounds measured per module (after one warm-up round), and the time they may take in all.
_SUBINTERP_ROUNDS = 3
_SUBINTERP_SECONDS = 5.0
# Blocks per round under which two rounds end the measure early (the driver reports from 100, over 3 rounds).
_SUBINTERP_QUIET = 50
# Set while the bootstrap's own subinterpreters run, so that the copy of this file they import watches nothing.
_IN_SUBINTERPRETER = "CAPI_GC_WATCH_IN_SUBINTERPRETER"
# The subinterpreter rounds' helper process loads this file under this module name (or runs it with the flag).
_ROUNDS_MODULE = "_capi_gc_subinterpreter_rounds"
_ROUNDS_FLAG = "--capi-gc-subinterpreter-rounds"


def _now():
    # os.times() rather than time.perf_counter(): the time module is not always imported at start-up.
    return os.times()[4]


def _stable_hash(text):
    """FNV-1a of the text's UTF-8 bytes: the same in every process (str hashes are salted per process)."""
    h = 0xcbf29ce484222325
    for b in text.encode("utf-8", "replace"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def _token():
    return "%d-%s" % (os.getpid(), os.urandom(4).hex())


class _Witness(object):
    """Stored in a watched module's namespace. Its finalizer writes "cleared KEY" when Py_Finalize clears the
    namespace of a module still alive (an importer cleared just before may have held it: not yet a leak); a weak
    reference to the module, kept by the watch itself (alive until the interpreter's last collection), writes
    "freed KEY" whenever the module object is freed. Cleared and never freed, through Py_Finalize's last
    collection, is the leak. Everything they use is bound to them or to defaults: at Py_Finalize, globals may be None."""

    __slots__ = ("key", "pid", "module", "fd")

    def __repr__(self):
        return "<capi-gc Py_Finalize witness>"

    def __del__(self, _write=os.write, _getpid=os.getpid):
        try:
            if _getpid() == self.pid and self.module() is not None:  # a forked child's copy writes nothing
                _write(self.fd, ("cleared %s\n" % (self.key,)).encode("ascii"))
        except Exception:
            pass


def _freed_callback(key, pid, fd, _write=os.write, _getpid=os.getpid):
    def freed(ref):
        try:
            if _getpid() == pid:
                _write(fd, ("freed %s\n" % (key,)).encode("ascii"))
        except Exception:
            pass

    return freed


class _Watch(object):
    def __init__(self):
        self.started = _now()
        self.token = _token()
        self.phase_fd = None
        self.phase_len = 0
        self.phase_at = 0
        self.phase = ("run", "")
        self.stage = "run"  # then "exit" (this bootstrap's at_exit), then "finalize" (Py_Finalize)
        self.young = []  # names of the watched types newest among the young objects at the last collection
        self.fault_fd = None
        self.fault = None  # "capi-gc": faulthandler into fault-TOKEN.txt; "program": the program's own setting
        self.witness_fd = None
        self.witnesses = 0
        self.rounds = 0  # helper processes started for the subinterpreter rounds
        self.freed_refs = []  # weak references to the witnessed modules, with the callback that writes "freed"
        self.module_refs = {}  # name -> weak reference to the module object
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
            self.modules[name] = {"name": name, "file": path, "witness": self.add_witness(name, mod)}
            try:
                self.module_refs[name] = _weakref.ref(mod)
            except TypeError:
                pass
            try:
                for v in list(vars(mod).values()):
                    if isinstance(v, type):
                        self.add_type(v)
            except Exception as e:
                self.note_error("module %s: %r" % (name, e))

    def add_witness(self, name, mod):
        """Puts a _Witness in the module's namespace (unless one is there): the key its finalizer writes."""
        try:
            d = vars(mod)
            if _WITNESS in d:
                return None
            if self.witness_fd is None:
                self.witness_fd = self.open_side("witness")
            if self.witness_fd is None:
                return None
            self.witnesses += 1
            w = _Witness()
            w.key = "%s:%d" % (self.token, self.witnesses)
            w.pid = os.getpid()
            w.module = _weakref.ref(mod)
            w.fd = self.witness_fd
            # Kept here, not by the witness: it must outlive the namespace, to see the module freed after it.
            self.freed_refs.append(_weakref.ref(mod, _freed_callback(w.key, w.pid, w.fd)))
            d[_WITNESS] = w
            return w.key
        except Exception as e:
            self.note_error("witness %s: %r" % (name, e))
            return None

    # ---- side files: the faulthandler dump, the phase ----

    def open_side(self, kind):
        try:
            os.makedirs(_OUT, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
            return os.open(os.path.join(_OUT, "%s-%s.txt" % (kind, self.token)), flags, 0o600)
        except Exception as e:
            self.note_error("%s file: %r" % (kind, e))
            return None

    def start_side_files(self, ours=False):
        """The phase file, and faulthandler into the fault file unless the program enabled faulthandler itself
        (ours: it is enabled, but by this bootstrap, in the process this one was forked from)."""
        self.phase_fd = self.open_side("phase")
        try:
            import faulthandler  # built in: nothing is read from disk

            if faulthandler.is_enabled() and not ours:
                self.fault = "program"
            else:
                self.fault_fd = self.open_side("fault")
                if self.fault_fd is not None:
                    faulthandler.enable(file=self.fault_fd, all_threads=True)
                    self.fault = "capi-gc"
        except Exception as e:
            self.note_error("faulthandler: %r" % (e,))
        self.set_phase("run")

    def reenable_faulthandler(self):
        """At exit: a program that enabled faulthandler for a while (pytest does, to its stderr) and then restored
        it as it found it, enabled, has it writing to its stderr; Py_Finalize's crashes go to capi-gc's file again."""
        if self.fault != "capi-gc" or self.fault_fd is None:
            return
        try:
            import faulthandler

            faulthandler.enable(file=self.fault_fd, all_threads=True)
        except Exception:
            pass

    def set_phase(self, phase, detail=""):
        """Rewrites the phase file's last line in place: 'phase<TAB>detail<TAB>young types'. One pwrite, and only
        on a change. The first two lines, written once, say whose faulthandler is on and the process's argv."""
        fd = self.phase_fd
        if fd is None or (phase, detail) == self.phase and phase != "run":
            return
        self.phase = (phase, detail)
        try:
            if not self.phase_len:
                argv = getattr(sys, "argv", None) or []
                head = ("faulthandler\t%s\nargv\t" % (self.fault or "none",)
                        + "\t".join(str(a).replace("\t", " ").replace("\n", " ") for a in argv) + "\n")
                head = head.encode("utf-8", "replace")
                os.pwrite(fd, head, 0)
                self.phase_at = len(head)
                self.phase_len = 1
            line = "%s\t%s\t%s\n" % (phase, detail, ",".join(self.young))
            data = line.encode("utf-8", "replace")
            n = len(data)
            if n < self.phase_len:
                data += b" " * (self.phase_len - n)
            os.pwrite(fd, data, self.phase_at)
            self.phase_len = n
        except Exception:
            self.phase_fd = None

    def after_fork(self):
        """In a forked child: its own token and side files (the parent's are the parent's)."""
        try:
            self.token = _token()
            self.phase_len = 0
            self.witness_fd = None
            ours = self.fault == "capi-gc"
            self.fault = None
            self.fault_fd = None
            self.phase_fd = None
            self.start_side_files(ours)
        except Exception:
            pass

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

    def sample(self, objs, deadline, phase="check"):
        types = self.types
        n = 0
        newest = None
        for o in objs:
            t = type(o)
            rec = types.get(id(t))
            if rec is None:
                continue
            newest = rec
            if rec["instances"] >= _SAMPLES_PER_TYPE:
                rec["instances"] += 1
                continue
            try:
                self.set_phase(phase, rec["name"])
                self.check(o, t, rec)
            except Exception as e:
                self.note_error("check %s: %r" % (rec["name"], e))
            n += 1
            if (n & 15) == 0 and _now() > deadline:
                break
        self.samples += n
        return newest

    def young_types(self, young):
        """Records of the watched types with instances among the young objects, in the order last seen."""
        types = self.types
        order = {}
        for i, o in enumerate(young):
            rec = types.get(id(type(o)))
            if rec is not None:
                order[id(rec)] = (i, rec)
        return [r for _, r in sorted(order.values(), key=lambda x: x[0])]

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
        if not _OUT:
            return
        generation = info.get("generation")
        if self.stage != "run":
            # At exit the phase says what capi-gc does; in Py_Finalize, which collection runs.
            if self.stage == "finalize":
                self.set_phase("finalize", "collection of generation %s" % generation if phase == "start" else "")
            return
        if phase != "start":
            self.set_phase("run")
            return
        self.set_phase("collect", str(generation))
        if generation != 0:
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
            newest = self.sample(self.with_referents(young), t0 + 0.01)
            if newest is not None:
                # The watched types with instances among the young objects, newest last: what was being made.
                names = [r["name"] for r in self.young_types(young)]
                if names:
                    self.young = names[-3:]
            self.set_phase("collect", "0")
        except Exception as e:
            self.note_error("gc callback: %r" % (e,))
        finally:
            self.spent += _now() - t0

    # ---- exit ----

    def header(self):
        return {"version": 1, "pid": os.getpid(), "token": self.token, "argv": list(sys.argv),
                "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable, "faulthandler": self.fault}

    def at_os_exit(self):
        """os._exit skips atexit (multiprocessing's forked workers end so). What the collections saw, and a check
        of the instances alive now, is still written; nothing is judged alive at exit or leaked (the process
        does not finalise) and no subinterpreter rounds run."""
        if not _OUT or self.stage != "run":
            return
        t0 = _now()
        record = self.header()
        record["ended_by"] = "os._exit"
        self.stage = "exit"
        try:
            self.scan_modules()
            # Every instance alive now is checked, as at a normal exit (the worker's results are often all kept).
            everything = gc.get_objects()
            self.find_new_types(everything)
            self.sample(self.with_referents(everything), t0 + 2.0, "exit-check")
            del everything
        except Exception as e:
            self.note_error("os._exit: %r" % (e,))
        record["collect_rounds"] = []
        self.finish(record, t0)

    def at_exit(self):
        if not _OUT or self.stage != "run":
            return
        t0 = _now()
        record = self.header()
        self.reenable_faulthandler()
        self.stage = "exit"
        try:
            self.scan_modules()
            self.module_kinds()
            if sys.version_info >= (3, 12) and os.environ.get("CAPI_GC_WATCH_SUBINTERPRETERS") != "0":
                self.subinterpreters()
            self.set_phase("exit-collect")
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
            self.sample(unique, t0 + 2.0, "exit-check")
            hidden = {}
            budget = _now() + 2.0
            for o in unique:
                t = type(o)
                rec = self.types[id(t)]
                self.set_phase("exit-check", rec["name"])
                rec["alive_at_exit"] += 1
                # A live instance whose reference to its type the collector cannot see (untracked, no GC, no visit).
                if hidden is not None and (not gc.is_tracked(o) or not any(r is t for r in gc.get_referents(o))):
                    hidden[id(t)] = hidden.get(id(t), 0) + 1
                    if _now() > budget:
                        hidden = None
            self.set_phase("exit-check", "")
            if hidden is not None:
                self.type_refcounts(hidden)
            t = None
            reachable = self.reachable() if unique else set()  # a full traversal: only when something is alive
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
        self.finish(record, t0)
        # Whatever crashes from now on crashes in Py_Finalize (module teardown, the last collections).
        self.stage = "finalize"
        self.set_phase("finalize")

    def finish(self, record, t0):
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

    # ---- at exit: the modules ----

    def module_kinds(self):
        """Each watched module's init kind, from its PyModuleDef (ctypes, at exit only): multi_phase (m_slots set,
        or never registered as a single-phase module), and whether a Py_mod_multiple_interpreters slot refuses
        subinterpreters. None where it cannot be read."""
        if not self.modules:
            return
        try:
            import ctypes

            get_def = ctypes.pythonapi.PyModule_GetDef
            get_def.restype, get_def.argtypes = ctypes.c_void_p, [ctypes.py_object]
            ptr = ctypes.sizeof(ctypes.c_void_p)
        except Exception as e:
            self.note_error("ctypes: %r" % (e,))
            return
        for name, m in self.modules.items():
            m["multi_phase"] = None
            ref = self.module_refs.get(name)
            mod = ref() if ref is not None else None
            if mod is None:
                continue
            try:
                d = get_def(mod)
                if not d:
                    ctypes.pythonapi.PyErr_Clear()
                    continue
                base = d + object.__basicsize__  # m_base starts with PyObject_HEAD
                # Pointer-sized fields: m_init m_index m_copy m_name m_doc m_size m_methods m_slots.
                field = [ctypes.c_void_p.from_address(base + i * ptr).value for i in range(8)]
                slots = field[7]
                m["multi_phase"] = bool(slots) or not (field[0] or field[2])
                refuses = False
                i = 0
                while slots and i < 64:
                    kind = ctypes.c_int.from_address(slots + i * 2 * ptr).value
                    if kind == 0:
                        break
                    if kind == 3:  # Py_mod_multiple_interpreters
                        refuses = not ctypes.c_void_p.from_address(slots + i * 2 * ptr + ptr).value  # NOT_SUPPORTED
                    i += 1
                m["subinterpreters_refused"] = refuses
            except Exception as e:
                self.note_error("module def %s: %r" % (name, e))
            mod = None

    def subinterpreters(self):
        """Each multi-phase module watched, loaded in a fresh subinterpreter (legacy config: the main interpreter's
        allocator and GIL) that is then destroyed; the allocated blocks it leaves behind, against a round without
        the module (import importlib.util and make the spec only). The rounds run in a helper process started here
        (this file, run as a script by the same interpreter, with the program's sys.path): a module that crashes or
        hangs in a subinterpreter must not change the program's exit code. (os.fork is refused at exit on 3.12+.)"""
        todo = [m for m in self.modules.values() if m.get("multi_phase") and not m.get("subinterpreters_refused")]
        for m in self.modules.values():
            if m.get("multi_phase") is False:
                m["subinterpreters"] = {"skipped": "single-phase init"}
            elif m.get("subinterpreters_refused"):
                m["subinterpreters"] = {"skipped": "Py_mod_multiple_interpreters refuses subinterpreters"}
        if not todo:
            return
        if not hasattr(os, "posix_spawn") or not sys.executable:
            for m in todo:
                m["subinterpreters"] = {"skipped": "no os.posix_spawn or sys.executable to start the helper process"}
            return
        mine = []
        for m in todo:
            if self.claim("subinterpreters", m["file"]):
                mine.append(m)
            else:
                m["subinterpreters"] = {"skipped": "measured by another process of the run"}
        if not mine:
            return
        # One helper for them all; after one crashes (or hangs), another for those it did not reach.
        while mine:
            self.set_phase("exit-subinterpreter", ",".join(m["name"] for m in mine))
            self.spawn_rounds(mine)
            left = [m for m in mine if m.get("subinterpreters", {}).get("skipped", "").startswith("not reached")]
            if len(left) == len(mine):
                break  # the helper reached none of them: another would not either
            mine = left
        self.set_phase("exit-collect")

    def spawn_rounds(self, mine):
        """One helper process for the modules `mine`: sets each one's "subinterpreters"."""
        self.rounds += 1
        paths = [os.path.join(_OUT, "rounds-%s-%s-%d.txt" % (kind, self.token, self.rounds))
                 for kind in ("args", "result", "progress", "crash")]
        status = -1
        try:
            import json

            here = os.path.abspath(__file__)
            with open(paths[0], "w") as f:
                json.dump({"modules": [{"name": m["name"], "file": m["file"]} for m in mine], "result": paths[1],
                           "progress": paths[2], "seconds": _SUBINTERP_SECONDS,
                           "path": [p for p in sys.path if os.path.abspath(p or ".") != _HERE]}, f)
            env = dict(os.environ)
            env[_IN_SUBINTERPRETER] = "1"
            actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                       (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                       (os.POSIX_SPAWN_OPEN, 2, paths[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
            # Loaded as a module, not run as a script: from the bytecode compiled beside it, not compiled again.
            load = ("import importlib.util as u, sys; s = u.spec_from_file_location(%r, sys.argv[1]); "
                    "m = u.module_from_spec(s); s.loader.exec_module(m); m._rounds_main(sys.argv[2])" % (_ROUNDS_MODULE,))
            pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-c", load, here, paths[0]], env,
                                 file_actions=actions)
            status = os.waitpid(pid, 0)[1]
        except Exception as e:
            self.note_error("subinterpreter helper: %r" % (e,))
        self.read_rounds(mine, status, paths)

    @staticmethod
    def read_rounds(mods, status, paths):
        results = {}
        try:
            import json

            with open(paths[1]) as f:
                results = json.load(f)
        except Exception:
            pass
        current = ""
        try:
            with open(paths[2]) as f:
                lines = f.read().split("\n")
            current = [x for x in lines if x][-1]
        except Exception:
            pass
        dump = ""
        try:
            with open(paths[3]) as f:
                dump = f.read(8000)
        except Exception:
            pass
        signals = {4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"}
        if status < 0:
            how = "was lost"
        elif os.WIFSIGNALED(status):
            how = "crashed with %s" % signals.get(os.WTERMSIG(status), "signal %d" % os.WTERMSIG(status))
        elif "Timeout (" in dump:
            how = "did not finish within %d s" % (_SUBINTERP_SECONDS + 10,)
        else:
            how = "exited %d" % (os.WEXITSTATUS(status),)
        for m in mods:
            r = results.get(m["name"])
            if r is not None:
                m["subinterpreters"] = r
            elif m["name"] == current:
                m["subinterpreters"] = {"crashed": how, "dump": dump}
            else:
                m["subinterpreters"] = {"skipped": "not reached: the helper process measuring the rounds %s" % (how,)}

    @staticmethod
    def claim(what, key):
        """True for the first process of the run to ask (a marker file made with O_EXCL): a test suite that starts
        many Python processes pays for a module's subinterpreter rounds once."""
        try:
            name = "claim-%s-%x.txt" % (what, _stable_hash(key))
            os.close(os.open(os.path.join(_OUT, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except FileExistsError:
            return False
        except Exception:
            return True

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
            final = os.path.join(_OUT, "watch-%s.json" % (self.token,))
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


def _measure_rounds(todo, run, total, deadline, progress, path):
    """Sets each module's "subinterpreters": the rounds, or why there were none. In each subinterpreter sys.path
    is `path` (the program's), then the module's spec is made from its file (the control stops there) and the
    module is created and executed."""
    for m in todo:
        if _now() > deadline:
            m["subinterpreters"] = {"skipped": "out of time"}
            continue
        progress(m["name"])
        spec = "import sys\nsys.path[:] = %r\nimport importlib.util as u\ns = u.spec_from_file_location(%r, %r)\n" % (
            path, m["name"], m["file"])
        load = spec + "mod = u.module_from_spec(s)\ns.loader.exec_module(mod)\n"
        result = {"rounds": _SUBINTERP_ROUNDS, "blocks": [], "control_blocks": [], "refs": [], "control_refs": []}

        def once(code, key):
            # A young collection is enough: what a round leaves in this interpreter is new (a full one costs
            # as much again over a large heap, for the same figures on 3.12 and 3.13).
            gc.collect(0)
            b0 = sys.getallocatedblocks()
            r0 = total() if total else 0
            failed = run(code)
            gc.collect(0)
            if failed is not None:
                raise RuntimeError(repr(failed))
            if key is not None:
                result[key + "blocks"].append(sys.getallocatedblocks() - b0)
                if total:
                    result[key + "refs"].append(total() - r0)

        try:
            # No warm-up round: a process's first load leaves 1 block more than the next ones (3.12, 3.13), and
            # a spike in one round cannot make a finding (every round must grow).
            once(spec, "control_")
            for k in range(_SUBINTERP_ROUNDS):
                once(load, "")
                if k == 1 and max(result["blocks"]) - result["control_blocks"][0] < _SUBINTERP_QUIET:
                    break  # two quiet rounds: a correct module; a third would say the same
            if len(result["blocks"]) == _SUBINTERP_ROUNDS:
                once(spec, "control_")  # the control again, after: the growth is steady, not the control's
            result["rounds"] = len(result["blocks"])
        except Exception as e:
            text = "%s: %s" % (type(e).__name__, e)
            result = {"skipped": "it does not load in a subinterpreter (%s)" % text[:300]}
        m["subinterpreters"] = result


def _subinterpreter_runner():
    """run(code): code run in a fresh subinterpreter (legacy config) that is then destroyed; None when it ran."""
    try:
        import _interpreters as interp  # 3.13+

        def run(code):
            i = interp.create("legacy")
            try:
                return interp.run_string(i, code)
            finally:
                interp.destroy(i)
    except ImportError:
        import _xxsubinterpreters as interp  # 3.12

        def run(code):
            i = interp.create(isolated=False)
            try:
                return interp.run_string(i, code)
            finally:
                interp.destroy(i)
    return run


def _rounds_main(args_file):
    """The helper process (this file loaded as _ROUNDS_MODULE by `python -I -c`, or run with _ROUNDS_FLAG): the rounds for the
    modules in ARGS, their results as JSON, the module being loaded in the progress file; faulthandler (stderr is
    the crash file) for a crash, and its watchdog past the time limit. The exit code says nothing to the program."""
    import faulthandler
    import json

    faulthandler.enable(all_threads=True)
    with open(args_file) as f:
        args = json.load(f)
    faulthandler.dump_traceback_later(args["seconds"] + 10, exit=True)
    sys.path[:] = args["path"]
    progress = os.open(args["progress"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    mods = args["modules"]
    run = _subinterpreter_runner()
    _measure_rounds(mods, run, getattr(sys, "gettotalrefcount", None), _now() + args["seconds"],
                    lambda name: os.write(progress, (name + "\n").encode("utf-8", "replace")), args["path"])
    with open(args["result"] + ".tmp", "w") as f:
        json.dump(dict((m["name"], m["subinterpreters"]) for m in mods), f)
    os.replace(args["result"] + ".tmp", args["result"])


def _install():
    if not _OUT or os.environ.get(_IN_SUBINTERPRETER) == "1":
        return
    watch = _Watch()
    watch.start_side_files()
    # Registered before the program runs, so it runs after every atexit function the program registers.
    atexit.register(watch.at_exit)
    gc.callbacks.append(watch.on_gc)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=watch.after_fork)
    # os._exit runs no atexit function: the one stdlib function replaced, by one that writes the record first.
    real_exit = os._exit

    def _exit(status, _real=real_exit, _watch=watch):
        try:
            _watch.at_os_exit()
        except BaseException:
            pass
        _real(status)

    _exit.__doc__ = real_exit.__doc__
    os._exit = _exit


if __name__ == "__main__" and sys.argv[1:2] == [_ROUNDS_FLAG]:
    _rounds_main(sys.argv[2])
elif __name__ != _ROUNDS_MODULE:  # the helper loads this file under that name, then calls _rounds_main itself
    try:
        _install()
    except Exception:
        pass
    _chain_sitecustomize()
