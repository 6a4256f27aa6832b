"""Every benchmark in one run, each printing its markdown table:

1. `lenet_epoch.py`: one LeNet epoch on all of Fashion-MNIST through d2lmini, a bare loop and the
   classic DataLoader + PIL pipeline, as ratios;
2. `course_time.py`: the wall time of `pytest --nbval-lax notebooks`, per notebook and in total.

Usage: `python benchmarks/run_all.py` (about five minutes on two CPU cores). Extra arguments go to
lenet_epoch.py, e.g. `--device cuda --repeats 5`.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(lenet_args: list[str]) -> int:
    failed = 0
    for script, args in (("lenet_epoch.py", lenet_args), ("course_time.py", [])):
        print(f"\n## {script}\n", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / script), *args]).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
