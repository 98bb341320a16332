"""The bit-packed (multispin) Ising kernel against the exact finite-torus
energy and specific heat (Kaufman; shared/reference for L = 64) and against
the general CSR kernel (two-sample tests), within 4 standard errors computed
from the runs' own error bars."""
import math

import pytest

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE, ising2d_torus

from .helpers import Z_MAX, assert_close
from .test_ising_exact import _reference


def _run(lat, T, algorithm, seed, sweeps, kernel="multispin", J=1.0):
    sim = kd.Simulation(kd.Ising(lat, J=J), T=T, algorithm=algorithm, rng=seed, kernel=kernel)
    res = sim.run(sweeps=sweeps, thermalize=5_000)
    assert res.meta["algorithm_info"]["kernel"] == kernel
    return res


# L = 64: one word per row, colours alternate between lanes (masked updates);
# L = 128: two words per row, a word holds one colour. (At T_c the energy of
# L = 128 has tau_int ~ 10^3 sweeps under heat bath: too slow for this file.)
@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
@pytest.mark.parametrize("T", [2.0, T_C_SQUARE, 2.5])
def test_exact_L64(algorithm, T):
    res = _run(kd.lattice.square(64), T, algorithm, seed=31, sweeps=100_000)
    assert_close(res, _reference()(64, T), f"multispin L=64 {algorithm} T={T}", keys=("e",),
                 derived=("C",))


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
@pytest.mark.parametrize("T", [2.0, 2.5, 3.0])
def test_exact_L128(algorithm, T):
    res = _run(kd.lattice.square(128), T, algorithm, seed=32, sweeps=40_000)
    exact = ising2d_torus(128, T=T)
    assert_close(res, exact, f"multispin L=128 {algorithm} T={T}", keys=("e",), derived=("C",))


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
def test_exact_L256(algorithm):
    # W = 4: the colour words of rows y and y + 2 are updated as one vector
    res = _run(kd.lattice.square(256), 2.7, algorithm, seed=33, sweeps=20_000)
    assert_close(res, ising2d_torus(256, T=2.7), f"multispin L=256 {algorithm}", keys=("e",),
                 derived=("C",))


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
@pytest.mark.parametrize("T", [2.5, 3.0])
def test_exact_L1024(algorithm, T):
    # W = 16: the 8 colour words of a row are one vector step.  (Not below
    # T_c: from a random start, 5000 sweeps leave L = 1024 in coarsening
    # domains.)
    res = _run(kd.lattice.square(1024), T, algorithm, seed=34, sweeps=3_000)
    assert_close(res, ising2d_torus(1024, T=T), f"multispin L=1024 {algorithm} T={T}",
                 keys=("e",), derived=("C",))


def _two_sample(a, b, keys, label):
    z = {}
    for k in keys:
        z[k] = (a.mean(k) - b.mean(k)) / math.hypot(a.error(k), b.error(k))
    bad = {k: round(float(v), 2) for k, v in z.items() if not abs(v) < Z_MAX}
    assert not bad, f"{label}: multispin vs general |z| >= {Z_MAX}: {bad} (all: {z})"


@pytest.mark.parametrize("lat, T, J, algorithm", [
    (kd.lattice.square(128), 2.4, 1.0, "metropolis"),
    (kd.lattice.square(64, 8), 2.2, 1.0, "heatbath"),
    (kd.lattice.square(128, 8), 2.2, 1.0, "heatbath"),
    (kd.lattice.square(1024, 8), 2.3, 1.0, "metropolis"),     # 8 words per vector step
    (kd.lattice.square(1536, 4), 2.2, 1.0, "heatbath"),       # 8- and 4-word groups
    (kd.lattice.square(2048, 4), 2.0, -1.0, "metropolis"),    # 8-word groups, J < 0
    (kd.lattice.square(512, 8), 2.3, 1.0, "metropolis"),      # 4 words per vector step
    (kd.lattice.square(640, 4), 2.2, 1.0, "metropolis"),      # groups and a remainder
    (kd.lattice.square(1024, 4), 2.3, 1.0, "heatbath"),       # generic vector path
    (kd.lattice.square(512, 4), 2.0, -1.0, "metropolis"),     # generic vector path, J < 0
    (kd.lattice.square(256, 8), 2.2, 1.0, "heatbath"),        # W = 4: paired rows
    (kd.lattice.square(256, 4), 2.0, -1.0, "metropolis"),     # paired rows, J < 0
    (kd.lattice.square(64, 16), 2.3, 1.0, "metropolis"),      # W = 1: blocks of 8 rows
    (kd.lattice.square(64, 8), 2.0, -1.0, "heatbath"),        # blocks of 8 rows, J < 0
    (kd.lattice.square(64, 4), 2.0, -1.0, "metropolis"),       # antiferromagnet
    (kd.lattice.cubic(64, 4, 4), 4.2, 1.0, "metropolis"),
    (kd.lattice.cubic(64, 2, 4), 3.5, 1.0, "heatbath"),
    (kd.lattice.cubic(64, 8, 4), 4.5, 1.0, "metropolis"),   # cubic 8-row blocks, W = 1
    (kd.lattice.cubic(128, 8, 2), 4.0, 1.0, "heatbath"),    # cubic 8-row blocks, W = 2
    (kd.lattice.cubic(256, 4, 2), 4.0, -1.0, "metropolis"), # cubic paired rows, J < 0
    (kd.lattice.cubic(1024, 2, 2), 4.5, 1.0, "heatbath"),   # cubic 8-word groups
])
def test_agrees_with_general_kernel(lat, T, J, algorithm):
    sweeps = 30_000
    fast = _run(lat, T, algorithm, seed=41, sweeps=sweeps, J=J)
    slow = _run(lat, T, algorithm, seed=42, sweeps=sweeps, kernel="general", J=J)
    keys = ("e", "m2", "m4", "abs_m") + (("m2_k",) if "m2_k" in set(fast) else ())
    _two_sample(fast, slow, keys, f"{lat.describe()['shape']} {algorithm}")
