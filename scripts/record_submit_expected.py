"""Records what the corpus of PySpark programs prints under real Spark.

Usage: <python of a pinned pyspark venv> scripts/record_submit_expected.py
           --corpus examples/submit --out examples/submit/expected/pyspark-<version>
           [--force] [--mode attach|spark-submit] [PROGRAM ...]
(scripts/record-submit-expected.sh runs it once per pinned pyspark version.)

For every program `<corpus>/<name>.py` it writes, under OUT:

    <name>.out    the program's stdout, byte for byte
    <name>.code   its exit status (a line with the number)

and keeps OUT/timings.tsv up to date: one row per program with its wall time
under real Spark and how it was run. A program whose two files both exist is
skipped unless --force is given, so an interrupted run resumes where it stopped.

Each program declares how it is launched in header comments:

    # submit: --master local[4] --py-files lib/x.py   (launcher options)
    # args: 7 hello "two words"                       (program arguments)

Paths in `--py-files` and `--files` are relative to the corpus directory. A
program without launcher options runs with `--master local[2]`.

How real Spark is run. A JVM start costs seconds per program, so by default
(`--mode attach`) one real PySpark gateway JVM is started per version, with
pyspark's own `launch_gateway()` and `--master local[2]`, and each program
without launcher options runs as its own `python <program>` process with
PYSPARK_GATEWAY_PORT/PYSPARK_GATEWAY_SECRET pointing at that JVM: the path
spark-submit's PythonRunner itself gives a driver. Every program stops its
SparkContext; after each one the helper checks that the JVM has no active
SparkContext left (and starts a fresh JVM if it has), so one program cannot
leak state into the next. Programs with launcher options (`--py-files`,
`--files`, another master) run through the real `bin/spark-submit` of the
venv's pyspark, which is also what `--mode spark-submit` does for all of them
(slow, but free of any doubt about the attach path). With pyspark 4.3.0 the
two modes gave the same stdout and exit status for every program (checked
when the corpus was first recorded; the only difference then, a driver's
stderr, is why attached drivers now write stderr into the stdout pipe).

Every program runs in a fresh empty working directory, with PYTHONUNBUFFERED
set as spark-submit sets it, and with the same Python for driver and workers.
As under spark-submit (whose PythonRunner merges the driver's stderr into its
stdout), what a driver writes to stderr is recorded as part of its stdout, in
order: an attached driver runs with stderr on the stdout pipe.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

DEFAULT_MASTER = "local[2]"
TIMEOUT = 600


def header(path):
    """The launcher options and program arguments a program declares."""
    submit, args = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# submit:"):
                submit += shlex.split(line[len("# submit:"):])
            elif line.startswith("# args:"):
                args += shlex.split(line[len("# args:"):])
    return submit, args


def absolute_options(options, corpus):
    """`--py-files`/`--files` lists with paths made absolute against the corpus."""
    out = []
    it = iter(options)
    for opt in it:
        out.append(opt)
        if opt in ("--py-files", "--files"):
            value = next(it)
            out.append(",".join(os.path.join(corpus, p) for p in value.split(",")))
        elif opt in ("--master", "--conf", "--name"):
            out.append(next(it))
    return out


class Gateway:
    """One real PySpark gateway JVM, started with pyspark's launch_gateway()."""

    def __init__(self, log):
        self.log = log
        self.gateway = None

    def start(self):
        from pyspark.java_gateway import launch_gateway

        os.environ["PYSPARK_SUBMIT_ARGS"] = "--master %s pyspark-shell" % DEFAULT_MASTER
        started = time.monotonic()
        self.gateway = launch_gateway(popen_kwargs={"stdout": self.log, "stderr": self.log})
        return time.monotonic() - started

    def ensure(self):
        return self.start() if self.gateway is None else 0.0

    def env(self):
        params = self.gateway.gateway_parameters
        return {"PYSPARK_GATEWAY_PORT": str(params.port), "PYSPARK_GATEWAY_SECRET": params.auth_token}

    def clean(self):
        """True when no SparkContext is left active in the JVM."""
        # SparkContext.getActive is private[spark]: no static forwarder for
        # py4j to call, so it is reached through reflection on the companion.
        try:
            g = self.gateway
            companion = g.jvm.java.lang.Class.forName("org.apache.spark.SparkContext$")
            module = companion.getField("MODULE$").get(None)
            get_active = companion.getMethod("getActive", g.new_array(g.jvm.java.lang.Class, 0))
            return not get_active.invoke(module, g.new_array(g.jvm.java.lang.Object, 0)).isDefined()
        except Exception:  # noqa: BLE001 - a JVM that cannot answer is not clean
            return False

    def stop(self):
        if self.gateway is None:
            return
        proc = self.gateway.proc
        try:
            self.gateway.shutdown()
        except Exception:  # noqa: BLE001
            pass
        if proc is not None:
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.gateway = None


def run(cmd, env, log, merge_stderr):
    """(stdout bytes, exit status, seconds) of one program in a scratch directory.

    spark-submit's PythonRunner starts the driver with its stderr redirected
    into its stdout (`redirectErrorStream(true)`) and copies that to its own
    stdout, so what a driver writes to stderr is part of spark-submit's stdout.
    A driver attached to the shared JVM gets the same (`merge_stderr`); when
    the command is spark-submit itself, its stderr is the JVM's log.
    """
    cwd = tempfile.mkdtemp(prefix="corpus-run-")
    started = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT if merge_stderr else log,
                           stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        out, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, code = e.stdout or b"", "timeout"
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    return out, code, time.monotonic() - started


def read_timings(path):
    rows = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, rest = line.rstrip("\n").split("\t", 1)
                rows[name] = rest
    return rows


def write_timings(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("# program\treal_spark_seconds\tlaunch\n")
        for name in sorted(rows):
            f.write("%s\t%s\n" % (name, rows[name]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--mode", choices=("attach", "spark-submit"), default="attach")
    ap.add_argument("--log", help="where the programs' stderr and the JVM's log go (default: a temp file)")
    ap.add_argument("programs", nargs="*")
    a = ap.parse_args()

    import pyspark

    corpus = os.path.abspath(a.corpus)
    out_dir = os.path.abspath(a.out)
    os.makedirs(out_dir, exist_ok=True)
    names = a.programs or sorted(n[:-3] for n in os.listdir(corpus) if n.endswith(".py"))
    spark_submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    timings_path = os.path.join(out_dir, "timings.tsv")
    timings = read_timings(timings_path)

    log_path = a.log or os.path.join(tempfile.gettempdir(), "record-submit-pyspark-%s.log" % pyspark.__version__)
    print("  (stderr of the programs and the JVM: %s)" % log_path, file=sys.stderr)
    log = open(log_path, "ab")
    gateway = Gateway(log)
    base_env = dict(os.environ)
    base_env["PYTHONUNBUFFERED"] = "YES"
    base_env["PYSPARK_PYTHON"] = sys.executable
    base_env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    for k in ("PYSPARK_GATEWAY_PORT", "PYSPARK_GATEWAY_SECRET", "PYSPARK_SUBMIT_ARGS"):
        base_env.pop(k, None)
    failures = 0
    try:
        for name in names:
            prog = os.path.join(corpus, name + ".py")
            out_file = os.path.join(out_dir, name + ".out")
            code_file = os.path.join(out_dir, name + ".code")
            if not a.force and os.path.exists(out_file) and os.path.exists(code_file):
                continue
            options, args = header(prog)
            log.write(("\n===== %s =====\n" % name).encode())
            log.flush()
            env = dict(base_env)
            if options or a.mode == "spark-submit":
                launch = "spark-submit"
                opts = absolute_options(options, corpus)
                if "--master" not in opts:
                    opts = ["--master", DEFAULT_MASTER] + opts
                cmd = [spark_submit] + opts + [prog] + args
            else:
                launch = "attach"
                jvm_start = gateway.ensure()
                if jvm_start:
                    print("  (gateway JVM started in %.1f s)" % jvm_start, file=sys.stderr)
                env.update(gateway.env())
                cmd = [sys.executable, prog] + args
            out, code, secs = run(cmd, env, log, merge_stderr=launch == "attach")
            if code == "timeout":
                print("  %s: timed out after %d s, not recorded" % (name, TIMEOUT), file=sys.stderr)
                failures += 1
                gateway.stop()
                continue
            with open(out_file, "wb") as f:
                f.write(out)
            with open(code_file, "w", encoding="utf-8") as f:
                f.write("%d\n" % code)
            timings[name] = "%.2f\t%s" % (secs, launch)
            write_timings(timings_path, timings)
            print("  %-40s exit %d  %6.1f s  %s" % (name, code, secs, launch), file=sys.stderr)
            if launch == "attach" and not gateway.clean():
                print("  %s left a SparkContext active: restarting the gateway JVM" % name, file=sys.stderr)
                gateway.stop()
    finally:
        gateway.stop()
        log.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
