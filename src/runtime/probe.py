"""capi-gc run-time probe: what the garbage collector really sees for an extension module's types.

    python probe.py list   <module> [--lazy-factory TYPE=EXPR]... [--path DIR]...
    python probe.py type   <module> <qualname> [--instances N] [--factory EXPR] [--path DIR]...
    python probe.py module <module> [--factory EXPR] [--path DIR]...

Run by capi-gc's driver (src/runtime/driver.ts) in a child process of the user's interpreter. Prints JSON objects,
one per line, on the original stdout, each with one os.write, so the lines printed before a crash survive. A risky
step is bracketed by {"event":"step","step":S,"status":"start"} and "done": a missing "done" names the step that
crashed. Everything else written to stdout, by Python or C code, goes to stderr. Automatic collection is off:
gc.collect() runs only where a step asks for it. Stdlib only, Python 3.9+. --factory EXPR is evaluated with the
module as `m` (and the type as `T` for `type`).
"""

import argparse
import gc
import importlib
import importlib.util
import json
import os
import platform
import sys
import traceback
import types
import weakref

HEAPTYPE, HAVE_GC, IMMUTABLE, BASETYPE = 1 << 9, 1 << 14, 1 << 8, 1 << 10
MANAGED_DICT, DISALLOW_INSTANTIATION = 1 << 4, 1 << 7
PROBE_ATTR = "_capi_gc_probe"
_out_fd = 1


def emit(event, **fields):
    record = dict(event=event, **fields)
    data = (json.dumps(record, default=repr, separators=(",", ":")) + "\n").encode("utf-8")
    while data:
        data = data[os.write(_out_fd, data):]


def describe(exc):
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not end the probe
        message = "<unprintable>"
    return "%s: %s" % (type(exc).__qualname__, message)


class Step:
    """A block run as a step: start/done lines (if announced); an exception prints an error line and ends the block."""

    def __init__(self, name, announce=True, **fields):
        self.name, self.announce, self.fields, self.ok = name, announce, fields, False

    def __enter__(self):
        if self.announce:
            emit("step", step=self.name, status="start", **self.fields)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            self.ok = True
            if self.announce:
                emit("step", step=self.name, status="done", **self.fields)
        elif isinstance(exc, (Exception, SystemExit)):
            emit("error", step=self.name, error=describe(exc))
            return True
        return False


def alive(ref, ident, kind):
    """The collector clears the weakrefs to every unreachable object before tp_clear, also to those that survive it
    (leaks): an object still among the tracked objects is alive as well."""
    return (ref is not None and ref() is not None) or any(id(o) == ident and type(o) is kind for o in gc.get_objects())


def is_heap_type(obj):
    return isinstance(obj, type) and bool(obj.__flags__ & HEAPTYPE)


def foreign(t, name, mod):
    """True if another loaded module exports t under its own name (a re-export, not a type of this module)."""
    owner = getattr(t, "__module__", None)
    other = sys.modules.get(owner) if isinstance(owner, str) and owner != name else None
    if other is None or other is mod:
        return False
    try:
        for part in t.__qualname__.split("."):
            other = getattr(other, part)
    except Exception:  # noqa: BLE001
        return False
    return other is t


def type_info(t):
    f, v = t.__flags__, sys.version_info
    return {"name": "%s.%s" % (getattr(t, "__module__", "?"), t.__qualname__), "qualname": t.__qualname__,
            "flags": f, "heap": bool(f & HEAPTYPE), "gc": bool(f & HAVE_GC),
            "immutable": v >= (3, 10) and bool(f & IMMUTABLE), "basetype": bool(f & BASETYPE),
            "managed_dict": v >= (3, 11) and bool(f & MANAGED_DICT),
            "disallow_instantiation": v >= (3, 10) and bool(f & DISALLOW_INSTANTIATION)}


_created = []  # heap types the import (or a factory) created: a list, so no id is reused


def heap_types_alive():
    return [o for o in gc.get_objects() if is_heap_type(o)]


def remember_created(before):
    known = {id(t) for t in before}
    _created.extend(t for t in heap_types_alive() if id(t) not in known)


def created_by_import(t, names):
    """A heap type alive after the import that was not before it, named for this module, for no module (a tp_name
    without a dot: __module__ is builtins) or for a module that is not loaded (tp_name "pkg.mod.T" imported as mod):
    it catches types kept only in C globals or module state that nothing else shows."""
    if not any(c is t for c in _created):
        return False
    owner = getattr(t, "__module__", None)
    return owner in names or owner == "builtins" or owner not in sys.modules


def discover(mod, name, found):
    """Calls found(t) for each type of the module: its attributes and their types, one gc.get_referents level
    from them and from the module (m_traverse shows the state), then the gc.get_objects() types of __module__ name or
    created by the import, and the static types of tracked objects of __module__ name. Static types count only when
    named for the module or exported under their own name (a module's functions are builtins' types)."""
    seen, names = set(), (name, name.rpartition(".")[2])

    def consider(obj, check_module=False, attribute=None):
        for t in (obj, type(obj)):
            if id(t) in seen or not isinstance(t, type) or foreign(t, name, mod):
                continue
            named_here = getattr(t, "__module__", None) in names
            if not is_heap_type(t) and not named_here and not (t is obj and attribute == t.__qualname__):
                continue
            if check_module and not named_here and not created_by_import(t, names):
                continue
            seen.add(id(t))
            found(t)

    values = list(vars(mod).items())
    for key, v in values:
        consider(v, attribute=key)
    values = [v for _, v in values]
    with Step("scan_referents"):
        for v in [mod] + values:
            for r in gc.get_referents(v):
                consider(r)
    with Step("scan_objects"):
        for o in gc.get_objects():
            consider(o if isinstance(o, type) else type(o), check_module=True)


def multi_phase(mod):
    """From the PyModuleDef: m_slots set (single-phase init refuses them), or never registered as a single-phase
    module (m_base.m_init and m_base.m_copy unset). None: no PyModuleDef (not an extension module)."""
    try:
        import ctypes
        get_def = ctypes.pythonapi.PyModule_GetDef
        get_def.restype, get_def.argtypes = ctypes.c_void_p, [ctypes.py_object]
        d = get_def(mod)
        if not d:
            return None
        base, ptr = d + object.__basicsize__, ctypes.sizeof(ctypes.c_void_p)  # m_base starts with PyObject_HEAD
        # Pointer-sized fields: m_init m_index m_copy m_name m_doc m_size m_methods m_slots.
        field = [ctypes.c_void_p.from_address(base + i * ptr).value for i in range(8)]
        return bool(field[7]) or not (field[0] or field[2])
    except Exception as exc:  # noqa: BLE001
        emit("error", step="multi_phase", error=describe(exc))
        return None


def load(name):
    mod, error = None, None
    before = heap_types_alive()
    try:
        mod = importlib.import_module(name)
    except (Exception, SystemExit) as exc:
        error = describe(exc)
    remember_created(before)
    before = None
    file = getattr(mod, "__file__", None)
    emit("module", module=name, file=os.path.abspath(file) if isinstance(file, str) else None,
         multi_phase=multi_phase(mod) if mod is not None else None, import_error=error,
         python=platform.python_version())
    return mod


def find_type(mod, name, qualname):
    qualname = qualname[len(name) + 1:] if qualname.startswith(name + ".") else qualname
    try:
        obj = mod
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, type):
            return obj
    except AttributeError:
        pass
    hits = []
    discover(mod, name, lambda t: hits.append(t) if qualname in (t.__qualname__, type_info(t)["name"]) else None)
    return hits[0] if hits else None


def self_cycle(make, tp, attr):
    """obj.attr = obj on a new instance, dropped, collected twice: (collected or None, reason)."""
    gc.collect()
    obj = make()
    try:
        setattr(obj, attr, obj)
        if getattr(obj, attr) is not obj:
            return None, "%s: the attribute does not keep the object" % attr
    except Exception as exc:  # noqa: BLE001
        return None, "%s: %s" % (attr, describe(exc))
    tracked, ident = gc.is_tracked(obj), id(obj)
    try:
        ref = weakref.ref(obj)
    except TypeError:
        if not tracked:
            return None, "%s: the instance is neither tracked nor weakly referenceable" % attr
        ref = None
    del obj
    gc.collect(), gc.collect()
    return not alive(ref, ident if tracked else None, tp), None


def settable_attributes(tp):
    """An instance attribute, then the type's member and getset descriptors: places a probe can store an object."""
    names = [PROBE_ATTR]
    for klass in tp.__mro__[:-1]:
        for key, value in list(vars(klass).items()):
            if isinstance(value, (types.MemberDescriptorType, types.GetSetDescriptorType)) and key not in names \
                    and key not in ("__dict__", "__weakref__", "__class__"):
                names.append(key)
    return names


class Marker:
    """A fresh object to store in an attribute and look for among gc.get_referents(instance)."""


def holds(obj, target, depth=2):
    """target is among obj's referents, or in a container among them (an instance __dict__, a list member)."""
    for r in gc.get_referents(obj):
        if r is target:
            return True
        if depth > 1 and not isinstance(r, (type, types.ModuleType)) and holds(r, target, depth - 1):
            return True
    return False


def member_visits(make, tp):
    """Stores a fresh object in each settable attribute of a new instance: tp_traverse must show it to
    gc.get_referents. One "member_visit" fact per attribute that kept the object (the instance __dict__ as
    "__dict__")."""
    for attr in settable_attributes(tp)[:12]:
        with Step("member_visit", via=attr):
            obj = make()
            for candidate in (Marker(), [], {}):
                try:
                    setattr(obj, attr, candidate)
                    if getattr(obj, attr) is candidate:
                        break
                except Exception:  # noqa: BLE001
                    pass
            else:
                continue
            emit("fact", fact="member_visit", value=holds(obj, candidate), via="__dict__" if attr == PROBE_ATTR else attr)
            obj = candidate = None


class CollectOnDel:
    """Runs a collection when it is freed: stored on an instance, it runs one inside that instance's tp_dealloc."""

    def __del__(self):
        gc.collect()


def collect_in_dealloc(make, tp):
    """Frees an instance holding a CollectOnDel: a tp_dealloc that releases members before PyObject_GC_UnTrack
    lets that collection find the dying, still tracked instance (a crash under the debug allocator). Last step."""
    for attr in settable_attributes(tp)[:12]:
        try:
            obj = make()
            setattr(obj, attr, CollectOnDel())
            if not isinstance(getattr(obj, attr), CollectOnDel) or not gc.is_tracked(obj):
                continue
        except Exception:  # noqa: BLE001
            continue
        with Step("collect_in_dealloc", via=attr):
            del obj
        emit("fact", fact="collect_in_dealloc", value=True, via=attr)
        return
    emit("fact", fact="collect_in_dealloc", value=None, reason="no attribute of a tracked instance accepts an object")


def self_cycles(make, tp):
    """Tries an instance attribute, then the writable members and getsets: one "self_cycle" fact per attempt; the
    summary "self_cycle_collected" names the first cycle that was not collected, else the first that was."""
    names = settable_attributes(tp)
    results, reasons = [], []
    for attr in names[:12]:
        with Step("self_cycle", via=attr):
            value, reason = self_cycle(make, tp, attr)
            if value is None:
                reasons.append(reason)
            else:
                results.append((value, attr))
                emit("fact", fact="self_cycle", value=value, via=attr)
    if results:
        value, attr = ([r for r in results if not r[0]] or results)[0]
        emit("fact", fact="self_cycle_collected", value=value, via=attr)
    else:
        emit("fact", fact="self_cycle_collected", value=None, reason="; ".join(reasons) or "no attribute to set")


def lazy_type(mod, name, qualname, factory):
    """A type created only when the module is used (by a function, on first use): the type of what the factory
    makes, if it has the name asked for."""
    try:
        made = type(eval(compile(factory, "<factory>", "eval"), {"m": mod}))
    except Exception:  # noqa: BLE001 - the factory's own error is reported when the instance is made
        return None
    return made if qualname in (made.__qualname__, type_info(made)["name"]) else None


def cmd_list(mod, name, args):
    """The module's types, then those its factories create (lazily made types): each factory runs once."""
    seen = set()

    def found(t, **extra):
        if id(t) not in seen:
            seen.add(id(t))
            emit("type", **dict(type_info(t), **extra))

    discover(mod, name, found)
    for spec in args.lazy_factory:
        type_name, _, factory = spec.partition("=")
        with Step("factory", factory=type_name):
            try:
                code = compile(factory, "<factory>", "eval")
                before = heap_types_alive()
                made = eval(code, {"m": mod})
                remember_created(before)
                before = None
            except Exception as exc:  # noqa: BLE001
                emit("factory_error", name=type_name, error=describe(exc), traceback=traceback.format_exc(limit=-8))
                continue
            emit("factory", name=type_name, type=type_info(type(made))["name"], qualname=type(made).__qualname__)
            found(type(made), lazy=True)
            made = None
            discover(mod, name, lambda t: found(t, lazy=True))


def cmd_type(mod, name, args):
    tp = find_type(mod, name, args.qualname or "")
    if tp is None and args.factory is not None:
        tp = lazy_type(mod, name, args.qualname or "", args.factory)
    if tp is None:
        emit("error", step="find_type", error="LookupError: no type %r in %s" % (args.qualname, name))
        return
    emit("type", **type_info(tp))
    held, make, via, error = {}, None, None, None  # held["inst"]: the only reference the probe keeps
    with Step("instance"):
        if args.factory is not None:
            try:
                code = compile(args.factory, "<factory>", "eval")
                make, via = (lambda: eval(code, {"m": mod, "T": tp})), "factory"
            except SyntaxError as exc:
                error = describe(exc)
        elif not type_info(tp)["disallow_instantiation"]:
            make, via = tp, "call"
        if make is not None:
            try:
                held["inst"] = make()
                if held["inst"] is None:
                    raise TypeError("the factory returned None")
            except Exception as exc:  # noqa: BLE001
                held, make, error = {}, None, describe(exc)
                if via == "factory":
                    emit("factory_error", error=error, traceback=traceback.format_exc(limit=-8))
        if not held and args.factory is None:
            held, via = {"inst": o for o in list(vars(mod).values()) + gc.get_objects() if type(o) is tp}, "existing"
    emit("instance", ok=bool(held), via=via if held else None, error=error)
    if not held:
        return
    with Step("tracked", announce=False):
        emit("fact", fact="tracked", value=gc.is_tracked(held["inst"]))
    with Step("referents"):
        value = any(r is type(held["inst"]) for r in gc.get_referents(held["inst"]))
        emit("fact", fact="type_in_referents", value=value)
    with Step("collect_with_instance"):
        gc.collect()
    if make is not None and type_info(tp)["gc"]:
        member_visits(make, tp)
    if make is not None and type_info(tp)["heap"]:
        with Step("refcount"):
            gc.collect()
            before = sys.getrefcount(tp)
            for _ in range(args.instances):
                make()
            gc.collect()
            emit("fact", fact="type_refcount_delta", value=sys.getrefcount(tp) - before, n=args.instances)
    if make is not None:
        self_cycles(make, tp)
    else:
        emit("fact", fact="self_cycle_collected", value=None, reason="instances cannot be created repeatedly")
    with Step("drop"):
        held.clear()
        gc.collect()
    if make is not None:
        collect_in_dealloc(make, tp)


def fresh_variant(variant, name, known, factory):
    """A new module object from the spec, executed, dropped (with an instance in a cycle through it for
    "with_instance"), collected twice: is it gone, and which of its heap types are left?"""
    held = {}
    with Step(variant + "_exec") as step:
        spec = importlib.util.find_spec(name)
        held["m"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(held["m"])
    spec = None
    if not step.ok:
        return
    mref = (weakref.ref(held["m"]), id(held["m"]), type(held["m"]))
    trefs, seen = [], set(known)
    for t in list(vars(held["m"]).values()) + gc.get_referents(held["m"]):
        if is_heap_type(t) and id(t) not in seen:
            seen.add(id(t))
            trefs.append((t.__qualname__, (weakref.ref(t), id(t), type(t))))
    t, extra = None, {}
    if variant == "with_instance":
        with Step("with_instance_instance") as step:
            fresh, inst = held["m"], None
            if factory is not None:
                inst = eval(compile(factory, "<factory>", "eval"), {"m": fresh})
            else:
                # Non-exception types that refer to the module (ht_module) first: they close the whole cycle.
                cands = sorted((r[0]() for _, r in trefs if r[0]() is not None), key=lambda c: (
                    issubclass(c, BaseException), not any(x is fresh for x in gc.get_referents(c))))
                for c in cands:
                    try:
                        if not type_info(c)["disallow_instantiation"]:
                            inst = c()
                            break
                    except Exception:  # noqa: BLE001
                        pass
                cands = c = None
            if inst is None:
                raise LookupError("no heap type of the module can be instantiated without arguments")
            extra["type"] = type(inst).__qualname__
            setattr(fresh, PROBE_ATTR, inst)  # module -> instance -> type -> module
            fresh = inst = None
        if not step.ok:
            extra.update(module_collected=None, types_left=[], reason="no instance could be made")
    held.clear()
    if "reason" not in extra:
        with Step(variant + "_collect"):
            gc.collect(), gc.collect()
        extra.update(module_collected=not alive(*mref), types_left=[q for q, r in trefs if alive(*r)])
    emit("fresh_module", variant=variant, supported=True, **extra)


def cmd_module(mod, name, args):
    phase = multi_phase(mod)
    if phase is not True:
        reason = "single-phase" if phase is False else "not a multi-phase extension module"
        emit("fresh_module", supported=False, reason=reason)
        return
    known = {id(o) for o in list(vars(mod).values()) + gc.get_referents(mod) if isinstance(o, type)}
    fresh_variant("plain", name, known, None)
    fresh_variant("with_instance", name, known, args.factory)


def main(argv):
    global _out_fd
    sys.stdout.flush()
    _out_fd = os.dup(1)  # the JSON channel; fd 1 itself (print(), C printf) now goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    gc.disable()
    parser = argparse.ArgumentParser(prog="probe.py")
    parser.add_argument("command", choices=["list", "type", "module"])
    parser.add_argument("module")
    parser.add_argument("qualname", nargs="?")
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--factory")
    parser.add_argument("--lazy-factory", action="append", default=[], help="TYPE=EXPR, for list")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        emit("error", step="args", error="UsageError: see stderr")
        return exc.code or 0
    here = os.path.dirname(os.path.abspath(__file__))  # not importable from the probe's own directory
    sys.path[:] = [os.path.abspath(p) for p in args.path] + [p for p in sys.path if os.path.abspath(p or ".") != here]
    mod = load(args.module)
    if mod is not None:
        with Step(args.command, announce=False):
            if args.command == "list":
                cmd_list(mod, args.module, args)
            else:
                (cmd_type if args.command == "type" else cmd_module)(mod, args.module, args)
    emit("done")
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(status)  # no interpreter shutdown: a crash there would be blamed on the last step
