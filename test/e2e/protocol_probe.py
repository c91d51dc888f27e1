"""Runtime probe for capi-gc's GC-protocol end-to-end tests (test/e2e/protocol.test.ts).

    python protocol_probe.py <dir> <module> <step,step,...>

Imports the extension module <module> found in <dir> and prints one JSON object
per line, one per step, flushing after each, so that the harness keeps the
facts gathered before a crash. A step that raises prints ok=false with the
exception and ends the run (exit status 1). Automatic collection is disabled: the GC runs
only where a step asks for it. Every fixture exposes a GC heap type `Thing`
with one object member, the read/write attribute `payload`, and a factory
`make(payload=None)`. Steps:

  start         the interpreter's version
  import        whether the module imports
  type          Thing.__flags__: HAVE_GC, HEAPTYPE, MANAGED_DICT (3.12+)
  typeref       sys.getrefcount(Thing) and sys.getallocatedblocks() before and
                after creating and dropping N instances (no collection
                involved): a dealloc that never frees leaves N more blocks
  referents     gc.get_referents(make(sentinel)): the type? the sentinel?
                And for a Thing that takes a second argument (a `tag` whose
                NULL-ness decides an early return in its traverse), the
                same question for Thing(sentinel, tag): the type visited?
  member-cycle  o = make(box), box = [marker, o]: o.payload -> box -> o;
                everything dropped, gc.collect(): is the marker (weakref)
                still alive, how many Thing instances are left over?
  self-cycle    o.payload = o; dropped, gc.collect(): Thing instances left
                over, gc.garbage, and whether o is its own referent
  dict-cycle    o.x = o through the instance __dict__ (types with one only):
                Thing instances left over after gc.collect(), and whether
                traverse shows the way back to o (o, or a dict holding o)
  buffer-cycle  (a Thing that exports a buffer, and takes a view of a payload
                that does) o1 = make(None), o2 = make(o1), o1.payload = o2;
                how often o1 is in gc.get_referents(o2) (payload, view.obj),
                and how many Thing instances are left after gc.collect()
  buffer-release b = bytearray(); o = make(b); del o: does b's refcount
                come back, and can b be resized again (no export left)?
  module        a fresh module object (module_from_spec + exec_module),
                four times: without instances, after one instance was made
                and dropped, with an instance in a cycle through it
                (fresh.keep = fresh.make(fresh)), and with an instance whose
                only way back to the module is its type (fresh.keep =
                fresh.make(None)); every reference dropped;
                gc.collect(): is the module still alive (weakref), is the
                module object still among gc.get_objects() (a weakref dies
                when the collector finds its object, even one it then
                cannot free), does
                gc.get_referents(module) hold its Thing type (m_traverse),
                how many of that trial's Thing types are left, with what
                refcount, and has the collector already cleared them?
  del-collect   o = make(Dying()) where Dying.__del__ calls gc.collect();
                del o: that collection runs inside Thing's dealloc. The
                __del__ reports what it collected ("del-collect-inside")
                before the dealloc goes on; "del-collect" is printed only
                if the interpreter survives.
  plain-drop    Thing() made and dropped (for a Thing that is not GC)
  subclass-drop class S(Thing): pass; S() made and dropped: S is a GC type
                (it has a __dict__), freed by Thing's dealloc; printed only if
                the interpreter survives
"""

import gc
import importlib
import importlib.util
import json
import sys
import types
import weakref

HAVE_GC = 1 << 14
HEAPTYPE = 1 << 9
MANAGED_DICT = 1 << 4  # Py_TPFLAGS_MANAGED_DICT (3.11+; accepted in type specs from 3.12)
TYPEREF_INSTANCES = 100
COLLECTIONS = 3


def emit(step, **facts):
    facts["step"] = step
    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.flush()


def describe(exc):
    return {"error": type(exc).__name__, "message": str(exc)}


class Sentinel:
    pass


class Marker:
    """A weakly referenceable object to put into a cycle: alive iff the cycle is."""


def collect():
    return sum(gc.collect() for _ in range(COLLECTIONS))


def count_instances(tp):
    return sum(1 for o in gc.get_objects() if type(o) is tp)


def thing_types(name, exclude):
    # A type the collector has cleared (type_clear empties its dict) has lost __module__.
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, type)
        and o.__qualname__ == "Thing"
        and getattr(o, "__module__", None) in (name, None)
        and o is not exclude
    ]


def step_typeref(mod, thing):
    mod.make(None)  # warm up: method caches, small-object pools
    before = sys.getrefcount(thing)
    blocks_before = sys.getallocatedblocks()
    for _ in range(TYPEREF_INSTANCES):
        mod.make(None)
    blocks_after = sys.getallocatedblocks()
    after = sys.getrefcount(thing)
    return {"instances": TYPEREF_INSTANCES, "before": before, "after": after, "delta": after - before,
            "blocksDelta": blocks_after - blocks_before}


def step_subclass_drop(thing):
    subclass = type("S", (thing,), {})
    flags = subclass.__flags__
    emit("subclass-made", subclassHaveGc=bool(flags & HAVE_GC))
    inst = subclass()
    del inst
    return {"ok": True}


def step_referents(mod):
    sentinel = Sentinel()
    inst = mod.make(sentinel)
    refs = gc.get_referents(inst)
    facts = {
        "typeVisited": any(r is type(inst) for r in refs),
        "payloadVisited": any(r is sentinel for r in refs),
        "count": len(refs),
    }
    del refs, inst
    try:
        tagged = mod.Thing(sentinel, Sentinel())
    except TypeError:
        facts["taggedTypeVisited"] = None
    else:
        facts["taggedTypeVisited"] = any(r is type(tagged) for r in gc.get_referents(tagged))
        del tagged
    return facts


def step_member_cycle(mod, thing):
    collect()
    baseline = count_instances(thing)
    marker = Marker()
    box = [marker]
    inst = mod.make(box)
    box.append(inst)
    ref = weakref.ref(marker)
    del marker, box, inst
    collected = collect()
    return {
        "collected": collected,
        "markerAlive": ref() is not None,
        "instancesLeft": count_instances(thing) - baseline,
        "garbage": len(gc.garbage),
    }


def step_self_cycle(mod, thing):
    collect()
    baseline = count_instances(thing)
    inst = mod.make(None)
    inst.payload = inst
    is_own_referent = any(r is inst for r in gc.get_referents(inst))
    del inst
    collected = collect()
    return {
        "collected": collected,
        "ownReferent": is_own_referent,
        "instancesLeft": count_instances(thing) - baseline,
        "garbage": len(gc.garbage),
    }


def step_dict_cycle(mod, thing):
    collect()
    baseline = count_instances(thing)
    inst = mod.make(None)
    try:
        inst.x = inst
    except AttributeError:
        return {"applicable": False}
    # The reference back to inst is visible when traverse reports inst itself (inline values) or a dict holding it.
    dict_visited = any(
        r is inst or (type(r) is dict and any(v is inst for v in r.values())) for r in gc.get_referents(inst)
    )
    del inst
    collected = collect()
    return {
        "applicable": True,
        "collected": collected,
        "dictVisited": dict_visited,
        "instancesLeft": count_instances(thing) - baseline,
        "garbage": len(gc.garbage),
    }


def step_buffer_cycle(mod, thing):
    try:
        memoryview(mod.make(None)).release()
    except TypeError:
        return {"applicable": False}
    collect()
    baseline = count_instances(thing)
    first = mod.make(None)
    second = mod.make(first)  # second.payload is first, and second holds a view of first
    first.payload = second
    exporter_visits = sum(1 for r in gc.get_referents(second) if r is first)
    del first, second
    collected = collect()
    return {
        "applicable": True,
        "exporterVisits": exporter_visits,
        "collected": collected,
        "instancesLeft": count_instances(thing) - baseline,
        "garbage": len(gc.garbage),
    }


def step_buffer_release(mod):
    exporter = bytearray(b"abc")
    before = sys.getrefcount(exporter)
    inst = mod.make(exporter)
    del inst
    after = sys.getrefcount(exporter)
    try:
        exporter.append(0)
        resizable = True
    except BufferError:
        resizable = False
    return {"refcountBefore": before, "refcountAfter": after, "resizable": resizable}


def module_trial(name, instance, exclude_type):
    """instance: None (no instance), "dropped" (one made and dropped again, by refcount, while the module
    lives), "cycle" (fresh.keep = fresh.make(fresh), alive until the module's cycle is collected) or
    "type-cycle" (fresh.keep = fresh.make(None): back to the module only through the instance's type)."""
    collect()
    before = {id(t) for t in thing_types(name, exclude_type)}
    spec = importlib.util.find_spec(name)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    state_type_visited = any(r is fresh.Thing for r in gc.get_referents(fresh))
    if instance == "dropped":
        fresh.make(None)
    elif instance == "cycle":
        # module -> module.__dict__ -> instance -> (payload) module, and
        # instance -> its heap type -> (ht_module) module.
        fresh.keep = fresh.make(fresh)
    elif instance == "type-cycle":
        # module -> module.__dict__ -> instance -> its heap type -> (ht_module) module.
        fresh.keep = fresh.make(None)
    ref = weakref.ref(fresh)
    module_id = id(fresh)
    del fresh, spec
    collect()
    # Types left over from earlier trials (alive, so their ids are still theirs) are not this trial's.
    left = [t for t in thing_types(name, exclude_type) if id(t) not in before]
    refcounts = []
    for t in left:
        refcounts.append(sys.getrefcount(t) - 3)  # minus the argument, the loop variable and the list
    t = None
    module_left = any(id(o) == module_id and isinstance(o, types.ModuleType) for o in gc.get_objects())
    facts = {
        "moduleAlive": ref() is not None,
        "moduleLeft": module_left,
        "stateTypeVisited": state_type_visited,
        "thingTypesAlive": len(left),
        "thingTypeRefcounts": refcounts,
        # How many of them the collector has already run tp_clear on (type_clear empties the type's dict).
        "thingTypesCleared": sum(1 for t in left if "__module__" not in t.__dict__),
    }
    del left
    return facts


def step_module(name, thing):
    return {
        "withoutInstance": module_trial(name, None, thing),
        "droppedInstance": module_trial(name, "dropped", thing),
        "instanceCycle": module_trial(name, "cycle", thing),
        "typeCycle": module_trial(name, "type-cycle", thing),
    }


class Dying:
    """A payload whose finalizer runs a full collection while its owner is being deallocated."""

    def __del__(self):
        n = gc.collect()
        emit("del-collect-inside", collected=n)


def step_del_collect(mod):
    collect()
    inst = mod.make(Dying())
    del inst  # Thing's dealloc releases the Dying payload: Dying.__del__ -> gc.collect()
    return {"ok": True}


def main():
    directory, name = sys.argv[1], sys.argv[2]
    steps = sys.argv[3].split(",")
    gc.disable()
    sys.path.insert(0, directory)
    mod = thing = None
    for step in steps:
        try:
            if step == "start":
                emit(step, version="%d.%d.%d" % sys.version_info[:3], hexversion=sys.hexversion)
            elif step == "import":
                mod = importlib.import_module(name)
                thing = mod.Thing
                emit(step, ok=True, file=mod.__file__)
            elif step == "type":
                flags = thing.__flags__
                emit(step, name=thing.__module__ + "." + thing.__qualname__, flags=flags,
                     haveGc=bool(flags & HAVE_GC), heapType=bool(flags & HEAPTYPE),
                     managedDict=sys.version_info >= (3, 12) and bool(flags & MANAGED_DICT))
            elif step == "typeref":
                emit(step, **step_typeref(mod, thing))
            elif step == "referents":
                emit(step, **step_referents(mod))
            elif step == "member-cycle":
                emit(step, **step_member_cycle(mod, thing))
            elif step == "self-cycle":
                emit(step, **step_self_cycle(mod, thing))
            elif step == "dict-cycle":
                emit(step, **step_dict_cycle(mod, thing))
            elif step == "buffer-cycle":
                emit(step, **step_buffer_cycle(mod, thing))
            elif step == "buffer-release":
                emit(step, **step_buffer_release(mod))
            elif step == "module":
                emit(step, **step_module(name, thing))
            elif step == "del-collect":
                emit(step, **step_del_collect(mod))
            elif step == "plain-drop":
                inst = thing()
                del inst
                emit(step, ok=True, haveGc=bool(thing.__flags__ & HAVE_GC))
            elif step == "subclass-drop":
                emit(step, **step_subclass_drop(thing))
            else:
                emit(step, ok=False, error="UnknownStep", message=step)
                return 2
        except Exception as exc:  # noqa: BLE001 - report whatever the step raised, then stop
            emit(step, ok=False, **describe(exc))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
