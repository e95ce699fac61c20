"""Records cloudpickle payloads made by one Python interpreter, for sparkwire's
Python-version hint tests (tests/cloudpickle_python_hint.rs).

Usage: <any python 3.8+> scripts/record_python_hints.py PYSPARK_DIR PY4J_DIR OUT.json
       <any python 3.8+> scripts/record_python_hints.py --opcodes OUT.json
(scripts/record-python-hints.sh runs it for every interpreter x pinned pyspark.)

With --opcodes it records the interpreter's own opcode facts instead (module
`opcode`: each real opcode's number and its count of inline CACHE units, and how
COMPARE_OP's argument names one of opcode.cmp_op), from
which scripts/gen_python_opcodes.py writes sparkwire's per-release tables.

PYSPARK_DIR and PY4J_DIR are the pure-Python `pyspark` and `py4j` packages of a
pinned venv; they are linked into a temporary directory put first on sys.path, so
the interpreter running this script pickles with the cloudpickle that pyspark
bundles (module names in the payload are pyspark's own). When the full pyspark
package does not import on this interpreter, a bare `pyspark` package holding only
pyspark's `cloudpickle` is used instead, and the real command forms are skipped.

The output holds the interpreter's sys.version_info, the cloudpickle version, and
for each case its name and the payload's hex. The functions of
scripts/python_hint_cases.py are compiled as __main__'s, so cloudpickle pickles
them by value, code objects included.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
import uuid


CASES_FILE = "/jobs/python_hint_cases.py"


def load_cases():
    """The case functions, compiled under a fixed file name and defined in a
    namespace named __main__ (so cloudpickle pickles them by value)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_hint_cases.py")
    with open(path) as f:
        source = f.read()
    ns = {"__name__": "__main__"}
    exec(compile(source, CASES_FILE, "exec"), ns)
    return ns


def link_packages(pyspark_dir, py4j_dir, full):
    # A fixed directory, so the file names of pyspark's own code in the payloads
    # do not change from one recording to the next.
    root = os.path.join(tempfile.gettempdir(), "sparkwire-python-hint")
    shutil.rmtree(root, ignore_errors=True)
    os.mkdir(root)
    if full:
        os.symlink(pyspark_dir, os.path.join(root, "pyspark"))
        os.symlink(py4j_dir, os.path.join(root, "py4j"))
    else:
        pkg = os.path.join(root, "pyspark")
        os.mkdir(pkg)
        open(os.path.join(pkg, "__init__.py"), "w").close()
        os.symlink(os.path.join(pyspark_dir, "cloudpickle"), os.path.join(pkg, "cloudpickle"))
    sys.path.insert(0, root)
    atexit.register(shutil.rmtree, root, True)
    return root


def command_cases(ns):
    """PySpark's own command form: CloudPickleSerializer().dumps((func, None,
    deserializer, serializer)), where func is the closure RDD.map / filter /
    flatMap / mapPartitions define around the user's function (captured from
    RDD's own code, as PythonRDD would carry it)."""
    from pyspark import serializers as S

    try:
        from pyspark.core.rdd import RDD
    except ImportError:
        from pyspark.rdd import RDD

    class Captured(Exception):
        pass

    class Fake:
        def mapPartitions(self, f, preservesPartitioning=False):
            return RDD.mapPartitions(self, f, preservesPartitioning)

        def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
            raise Captured(f)

    def capture(method, *args):
        try:
            method(Fake(), *args)
        except Captured as c:
            return c.args[0]
        raise RuntimeError("RDD.%s did not call mapPartitionsWithIndex" % method.__name__)

    default = S.AutoBatchedSerializer(S.CPickleSerializer())
    out = []
    for name, method, arg in ns["command_functions"]():
        func = capture(getattr(RDD, method), arg)
        out.append((name, S.CloudPickleSerializer().dumps((func, None, default, default))))
    return out


def record_opcodes(out_path):
    import opcode

    caches = getattr(opcode, "_inline_cache_entries", None)
    ops = {}
    for name, num in sorted(opcode.opmap.items(), key=lambda kv: kv[1]):
        # Pseudo-instructions (>= 256) and the instrumented variants never
        # appear in the deoptimized co_code that cloudpickle pickles.
        if num >= 256 or name.startswith("INSTRUMENTED_"):
            continue
        if isinstance(caches, dict):
            n = caches.get(name, 0)
        elif isinstance(caches, list):
            n = caches[num]
        else:
            n = 0
        ops[name] = [num, n]
    # How COMPARE_OP's argument names its operator: index into opcode.cmp_op,
    # shifted left by some bits in newer releases (low bits are flags). The
    # shift is measured, not assumed: the least that maps each of the six rich
    # comparisons, compiled here, back to its index.
    import dis

    args = []
    for i, op in enumerate(opcode.cmp_op[:6]):
        code = compile("a %s b" % op, "<compare>", "eval")
        args.append([x.arg for x in dis.get_instructions(code) if x.opname == "COMPARE_OP"][0])
    shift = min(s for s in range(9) if all(a >> s == i for i, a in enumerate(args)))
    compare = {"opcode": opcode.opmap["COMPARE_OP"], "operators": len(opcode.cmp_op), "shift": shift}
    with open(out_path, "w") as f:
        json.dump(
            {"version_info": list(sys.version_info[:3]), "python": sys.version.split()[0], "opcodes": ops, "compare": compare},
            f,
            indent=1,
        )
        f.write("\n")


def main():
    if sys.argv[1] == "--opcodes":
        return record_opcodes(sys.argv[2])
    pyspark_dir, py4j_dir, out_path = sys.argv[1:4]
    notes = []
    full = True
    link_packages(pyspark_dir, py4j_dir, full=True)
    try:
        import pyspark.serializers  # noqa: F401
    except Exception as e:  # the full package needs a newer Python
        full = False
        notes.append("pyspark does not import here (%s: %s); bare cloudpickle used" % (type(e).__name__, e))
        for m in [m for m in sys.modules if m == "pyspark" or m.startswith(("pyspark.", "py4j"))]:
            del sys.modules[m]
        sys.path.pop(0)
        link_packages(pyspark_dir, py4j_dir, full=False)
    from pyspark import cloudpickle

    # cloudpickle names each class it pickles by value with uuid4().hex; number
    # them instead, so re-recording gives the same bytes (same length and form).
    counter = iter(range(1, 1 << 30))
    uuid.uuid4 = lambda: uuid.UUID(int=next(counter))
    payloads = []
    ns = load_cases()
    for name, fn in ns["cases"]():
        try:
            payloads.append({"name": name, "hex": cloudpickle.dumps(fn).hex()})
        except Exception as e:
            notes.append("%s: %s: %s" % (name, type(e).__name__, e))
    if full:
        for name, data in command_cases(ns):
            payloads.append({"name": name, "hex": data.hex()})
    if not payloads:
        sys.exit("no payload could be made: %s" % notes)
    with open(out_path, "w") as f:
        json.dump(
            {
                "version_info": list(sys.version_info[:3]),
                "python": sys.version.split()[0],
                "cloudpickle": getattr(cloudpickle, "__version__", "unknown"),
                "full_pyspark": full,
                "notes": notes,
                "payloads": payloads,
            },
            f,
            indent=1,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
