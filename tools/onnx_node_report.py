"""Per-op table of the ONNX backend node tests run through plait's importer.

    python tools/onnx_node_report.py [--fails] [op_type ...]

Prints, per op: cases, passed (static Symbol path / eager run_model path), failed, skipped;
then the totals.  --fails also lists every failing case with its error.
"""
import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "onnx"))
from backend_node_runner import all_cases, case_op, run_case  # noqa: E402


def main(argv):
    show_fails = "--fails" in argv
    only = {a for a in argv if not a.startswith("--")}
    table = defaultdict(Counter)
    fails, skips = [], Counter()
    for case in all_cases():
        op = case_op(case)
        if only and op not in only:
            continue
        status, path, why = run_case(case)
        table[op]["cases"] += 1
        table[op][status] += 1
        if status == "pass":
            table[op][path] += 1
        elif status == "fail":
            fails.append((case.name, why))
        else:
            skips[why.split(":")[0] + ":" + why.split(":")[1][:60] if ":" in why else why] += 1
    total = Counter()
    print("%-34s %5s %5s %6s %5s %5s %5s" % ("op", "cases", "pass", "eager", "fail", "skip", "%"))
    for op in sorted(table):
        t = table[op]
        total.update(t)
        print("%-34s %5d %5d %6d %5d %5d %5.0f" % (op, t["cases"], t["pass"], t["eager"], t["fail"],
                                                 t["skip"], 100.0 * t["pass"] / t["cases"]))
    print("%-34s %5d %5d %6d %5d %5d %5.0f" % ("TOTAL", total["cases"], total["pass"],
                                             total["eager"], total["fail"], total["skip"],
                                             100.0 * total["pass"] / max(total["cases"], 1)))
    if show_fails:
        for name, why in fails:
            print("FAIL %s: %s" % (name, why.replace("\n", " ")[:300]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
