"""Runtime probe for capi-gc's end-to-end tests.

    python probe.py <dir> <module> [step,step,...]

Imports the extension module <module> found in <dir> and prints one JSON object
per line, one per step, flushing after each, so that the test harness still has
the facts gathered before a crash (a NULL tp_traverse or a freed bad pointer
kills the interpreter). Automatic collection is disabled so that the GC runs
only where a step asks for it. Steps, in their default order:

  start      the interpreter's version
  import     whether the module imports; the exception if not
  type       Thing.__flags__: HAVE_GC (1 << 14) and HEAPTYPE (1 << 9)
  instance   inst = module.make(sentinel); gc.is_tracked(inst)
  collect    gc.collect() while the instance is alive
  referents  gc.get_referents(inst): does it contain type(inst)? the sentinel?
  drop       del inst (runs the dealloc; no collection)
  leak       a fresh module object (module_from_spec + exec_module), once
             without and once with an instance on it (fresh.keep =
             fresh.make(fresh)); every reference dropped; gc.collect(); is the
             module still alive (weakref), and how many of its Thing types does
             gc.get_objects() still hold?

Every fixture exposes the type as `Thing` and a factory `make(payload=None)`.
"""

import gc
import importlib
import importlib.util
import json
import sys
import weakref

HAVE_GC = 1 << 14
HEAPTYPE = 1 << 9
DEFAULT_STEPS = ["start", "import", "type", "instance", "collect", "referents", "drop", "leak"]


def emit(step, **facts):
    facts["step"] = step
    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.flush()


def describe(exc):
    return {"error": type(exc).__name__, "message": str(exc)}


class Sentinel:
    pass


def count_thing_types(name, exclude):
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, type)
        and o.__module__ == name
        and o.__qualname__ == "Thing"
        and o is not exclude
    )


def leak_trial(name, with_instance, exclude_type):
    spec = importlib.util.find_spec(name)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    if with_instance:
        # module -> module.__dict__ -> instance -> (payload) module, and
        # instance -> its heap type -> (ht_module) module.
        fresh.keep = fresh.make(fresh)
    ref = weakref.ref(fresh)
    del fresh, spec
    for _ in range(3):
        gc.collect()
    alive = ref() is not None
    return {"moduleAlive": alive, "thingTypesAlive": count_thing_types(name, exclude_type)}


def main():
    directory, name = sys.argv[1], sys.argv[2]
    steps = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else DEFAULT_STEPS
    gc.disable()
    sys.path.insert(0, directory)
    mod = thing = inst = None
    sentinel = Sentinel()
    for step in steps:
        if step == "start":
            emit(step, version="%d.%d.%d" % sys.version_info[:3], hexversion=sys.hexversion)
        elif step == "import":
            try:
                mod = importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - report whatever the import raised
                emit(step, ok=False, **describe(exc))
                return
            emit(step, ok=True, file=mod.__file__)
        elif step == "type":
            thing = mod.Thing
            flags = thing.__flags__
            emit(step, name=thing.__module__ + "." + thing.__qualname__, flags=flags,
                 haveGc=bool(flags & HAVE_GC), heapType=bool(flags & HEAPTYPE))
        elif step == "instance":
            inst = mod.make(sentinel)
            emit(step, typeName=type(inst).__name__, tracked=gc.is_tracked(inst))
        elif step == "collect":
            emit(step, ok=True, collected=gc.collect())
        elif step == "referents":
            refs = gc.get_referents(inst)
            emit(step, typeVisited=any(r is type(inst) for r in refs),
                 payloadVisited=any(r is sentinel for r in refs), count=len(refs))
        elif step == "drop":
            inst = None
            emit(step, ok=True)
        elif step == "leak":
            try:
                without = leak_trial(name, False, thing)
                with_inst = leak_trial(name, True, thing)
            except BaseException as exc:  # noqa: BLE001
                emit(step, ok=False, **describe(exc))
                return
            emit(step, ok=True, withoutInstance=without, withInstance=with_inst)
        else:
            emit(step, ok=False, error="UnknownStep", message=step)
            return


if __name__ == "__main__":
    main()
