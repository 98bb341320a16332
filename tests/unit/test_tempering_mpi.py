"""ParallelTempering(comm=...): replicas over MPI ranks, bit-identical to one process."""
import importlib.util
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.tempering import ParallelTempering

LADDER = [2.0, 2.2, 2.4, 2.6]
EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "mpi_tempering.py"


class _OneRank:
    """The communicator interface ParallelTempering uses, for a single rank."""

    def __init__(self, size=1):
        self.size = size

    def Get_rank(self):
        return 0

    def Get_size(self):
        return self.size

    def allgather(self, obj):
        return [obj]

    def bcast(self, obj, root=0):
        return obj


def _local(seed, algorithm, comm=None, steps=300):
    pt = ParallelTempering(kd.Ising(kd.lattice.square(8)), T=LADDER, algorithm=algorithm,
                           rng=seed, comm=comm)
    return pt, pt.run(steps, thermalize=50)


def test_one_rank_comm_is_the_serial_run():
    _, a = _local(3, "wolff")
    pt, b = _local(3, "wolff", comm=_OneRank())
    for ra, rb in zip(a, b):
        for k in ra:
            assert np.array_equal(ra[k], rb[k])
        assert ra.meta["algorithm_info"] == rb.meta["algorithm_info"]
    assert "ranks=1" in repr(pt)


@pytest.mark.parametrize("comm, match", [
    (object(), "mpi4py communicator"),
    ("COMM_WORLD", "mpi4py communicator"),
    (_OneRank(size=5), "5 ranks but the ladder only 4"),
])
def test_bad_comm(comm, match):
    with pytest.raises(ValueError, match=match):
        ParallelTempering(kd.Ising(kd.lattice.square(4)), T=LADDER, rng=1, comm=comm)


def _mpiexec(n):
    if importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None:
        pytest.skip("mpi4py or mpiexec not available (pip install mpi4py mpich)")
    return ["mpiexec", "-n", str(n), sys.executable]


@pytest.mark.parametrize("n, algorithm", [(2, "metropolis"), (3, "wolff")])
def test_mpi_run_bit_identical_to_serial(tmp_path, n, algorithm):
    """L=8 Ising, 4 temperatures, 350 exchange steps: energy and replica series at
    every temperature equal the single-process run bit for bit (n=3: uneven
    blocks, and Wolff's adaptive cluster count travels with its temperature)."""
    out = tmp_path / "pt.npz"
    proc = subprocess.run(_mpiexec(n) + [str(EXAMPLE), str(out), "--seed", "5",
                                         "--algorithm", algorithm, "--steps", "300"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    remote = np.load(out)
    pt, runs = _local(5, algorithm)
    assert remote["T"].tolist() == LADDER
    for k, r in enumerate(runs):
        assert np.array_equal(remote[f"e_{k}"], r["e"])
        assert np.array_equal(remote[f"replica_{k}"], r["replica"])
    assert np.array_equal(remote["acceptance"], pt.acceptance)
    assert len(set(remote["replica_0"])) > 1          # replicas did cross ranks


SCRIPT = """
import numpy as np, kadanoff as kd
from mpi4py import MPI
from kadanoff.tempering import ParallelTempering
comm = MPI.COMM_WORLD
model = kd.Ising(kd.lattice.square(4))
try:
    ParallelTempering(model, T=[2.0, 2.5, 3.0], rng=comm.Get_rank(), comm=comm)
except ValueError as err:
    assert "same random stream" in str(err), err
else:
    raise AssertionError("different seeds accepted")
pt = ParallelTempering(model, T=[2.0, 2.5, 3.0], comm=comm)       # rng=None: rank 0's entropy
runs = pt.run(50, thermalize=10)
mine = np.concatenate([r["e"] for r in runs])
allruns = comm.allgather(mine)
assert all(np.array_equal(x, allruns[0]) for x in allruns)         # Results on every rank
assert sum(s is not None for s in pt.states) in (1, 2)     # its own replicas only
print(f"ok{comm.Get_rank()}", flush=True)
"""


def test_mpi_seed_checks_and_results_on_every_rank(tmp_path):
    script = tmp_path / "check.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(_mpiexec(2) + [str(script)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ok0" in proc.stdout and "ok1" in proc.stdout
