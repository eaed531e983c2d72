"""Messages/s through the Python binding (plugins/python), on plugin_bench's workload: one
patient's record, N claims of scenario 02 (each its own CLM01 and ISA13, all held), then the
labs releasing all N, drained with poll(). Usage: plugin_python.py [N] (COVGATE_LIBRARY names
the library; default the build tree)."""

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins" / "python"))

import covgate  # noqa: E402


def report(what, messages, seconds):
    print(f"{what:<34} {messages:8d} msgs {seconds:8.3f} s {messages / seconds:10.0f} msgs/s "
          f"{seconds * 1e6 / messages:8.1f} us/msg")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    folder = ROOT / "samples" / "inputs" / "scenarios" / "02-csii-release-after-late-lab"
    record, claim, labs = (p.read_bytes() for p in sorted(folder.iterdir()))
    claims = [claim.replace(b"000000502", b"%09d" % (100000 + i)).replace(b"CSII-LATE", b"B%d" % i)
              for i in range(n)]
    with covgate.Gate() as gate:
        gate.submit(record)
        start = time.perf_counter()
        for c in claims:
            gate.submit(c)
        report("Python Gate.submit (claims)", n, time.perf_counter() - start)
        start = time.perf_counter()
        gate.submit(labs)
        later = gate.poll()
        gate.ack(later)
        report("Python (labs, poll + ack)", len(later), time.perf_counter() - start)
        if len(later) != n:
            raise SystemExit(f"the labs released {len(later)} claims, not {n}")


if __name__ == "__main__":
    main()
