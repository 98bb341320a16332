"""Independent chains in threads: the kernels release the GIL, so results are
bit-identical to running them one after another (timing is in the note, not
asserted here)."""
import concurrent.futures as cf

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.study import grid, run_study
from kadanoff.tempering import ParallelTempering

CASES = [
    (lambda: kd.Ising(kd.lattice.square(64)), 2.3, "metropolis"),    # multispin
    (lambda: kd.Ising(kd.lattice.square(16)), 2.3, "wolff"),
    (lambda: kd.Potts(kd.lattice.square(12), q=3), 1.0, "heatbath"),
    (lambda: kd.XY(kd.lattice.square(12)), 0.9, "metropolis"),
]


def _run(model, T, algorithm, seed):
    sim = kd.Simulation(model, T=T, algorithm=algorithm, rng=seed)
    res = sim.run(sweeps=200, thermalize=20)
    return sim.state.copy(), res


@pytest.mark.parametrize("make, T, algorithm", CASES)
def test_threads_match_sequential(make, T, algorithm):
    # one model object shared by all chains: its measurement scratch is per thread
    model = make()
    seeds = [1, 2, 3, 4]
    serial = [_run(model, T, algorithm, s) for s in seeds]
    with cf.ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda s: _run(model, T, algorithm, s), seeds))
    for (s1, r1), (s2, r2) in zip(serial, threaded):
        np.testing.assert_array_equal(s1, s2)
        for name in r1:
            np.testing.assert_array_equal(r1[name], r2[name])


def test_run_study_thread_pool_matches_serial():
    points = grid({"model": "ising", "L": 64, "sweeps": 50, "thermalize": 10},
                  T=[2.0, 2.3, 2.6])
    with cf.ThreadPoolExecutor(max_workers=1) as one:
        a = run_study(points, one, seed=5, progress=False)
    with cf.ThreadPoolExecutor(max_workers=3) as three:
        b = run_study(points, three, seed=5, progress=False)
    for ra, rb in zip(a, b):
        assert ra.meta["algorithm_info"]["kernel"] == "multispin"
        np.testing.assert_array_equal(ra["e"], rb["e"])


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_tempering_threads_bit_identical(algorithm):
    model = kd.Ising(kd.lattice.square(64))
    runs = []
    for threads in (1, 3):
        pt = ParallelTempering(model, T=[2.1, 2.3, 2.5], algorithm=algorithm, rng=9,
                               threads=threads)
        runs.append((pt.run(30, thermalize=5), pt))
    (a, pa), (b, pb) = runs
    for ra, rb in zip(a, b):
        np.testing.assert_array_equal(ra["e"], rb["e"])
        np.testing.assert_array_equal(ra["replica"], rb["replica"])
    assert pa.acceptance.tolist() == pb.acceptance.tolist()


def test_tempering_threads_validated():
    with pytest.raises(ValueError, match="threads"):
        ParallelTempering(kd.Ising(kd.lattice.square(4)), T=[2.0, 3.0], threads=0)
