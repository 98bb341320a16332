"""kd.DipolarClock: the Ewald lattice sum against brute-force image sums, the
incrementally updated field and energy against from-scratch recomputation,
the O(N)-per-proposal baseline kernel, observables of known states, bad input."""
import itertools
import math

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.models.dipolar import (
    dipolar_kernel,
    image_sum,
    plot_snapshot,
    plot_structure_factor,
    structure_factor,
)

TRI = ((1.0, 0.0), (0.5, math.sqrt(3) / 2))
SQ = ((1.0, 0.0), (0.0, 1.0))


# ------------------------------------------------------------------ lattice sum

@pytest.mark.parametrize("L,basis", [(2, TRI), (3, TRI), (4, TRI), (4, SQ)])
def test_ewald_equals_brute_force_image_sum(L, basis):
    """Ewald table == sum over +-200 image shells (plus the continuum tail
    2 pi / (A R_c) of the images beyond), to 5e-6; without the tail the
    truncation error is 2 pi / (A R_c) ~ 1e-3, so the check can fail."""
    K = dipolar_kernel(L, L, *basis)
    brute = image_sum(L, L, *basis, shells=200)
    assert np.max(np.abs(K - brute)) < 5e-6
    bare = image_sum(L, L, *basis, shells=200, tail=False)
    assert np.max(np.abs(K - bare)) > 1e-4


def test_image_sum_converges_to_ewald():
    """Adding image shells moves the brute-force sum towards the Ewald table:
    without the tail correction the error is the continuum tail 2 pi / (A R_c)
    (within 2 %), with it the error falls faster than 1 / R_c; 300 shells
    differ from 200 by less than 1e-6."""
    L = 3
    K = dipolar_kernel(L, L, *TRI)
    area = L * L * math.sqrt(3) / 2
    shells = (50, 100, 200, 300)
    err = [np.max(np.abs(image_sum(L, L, *TRI, shells=s) - K)) for s in shells]
    assert all(a > b for a, b in itertools.pairwise(err))
    assert err[1] / err[2] > 3.0 and err[-1] < 3e-7
    for s in (100, 300):
        bare = np.max(np.abs(image_sum(L, L, *TRI, shells=s, tail=False) - K))
        rc = s * L * math.sqrt(3) / 2                         # shells x supercell height
        assert bare == pytest.approx(2 * np.pi / (area * rc), rel=0.02)
    more = np.max(np.abs(image_sum(L, L, *TRI, shells=300) - image_sum(L, L, *TRI, shells=200)))
    assert more < 1e-6


def test_ewald_independent_of_splitting_and_symmetric():
    K = dipolar_kernel(6, 6, *TRI)
    for alpha in (0.3, 0.8, 2.0):
        assert np.max(np.abs(dipolar_kernel(6, 6, *TRI, alpha=alpha) - K)) < 1e-12
    # inversion K(r) = K(-r) and the six-fold symmetry of the triangular lattice
    neg = K[(-np.arange(6)) % 6][:, (-np.arange(6)) % 6]
    assert np.max(np.abs(K - neg)) < 1e-13
    assert abs(K[1, 0] - K[0, 1]) < 1e-13 and abs(K[1, 0] - K[5, 1]) < 1e-13
    # far from the images, K is close to the bare 1 / r^3 plus images
    assert abs(dipolar_kernel(48, 48, *TRI)[1, 0] - 1.0) < 1e-3


def test_kernel_bad_sizes():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError):
            dipolar_kernel(bad, 4)
    with pytest.raises(ValueError):
        dipolar_kernel(4, 4, (1, 0), (2, 0))


# ------------------------------------------------------------------ model

def _pair_energy(model, state):
    """O(N^2) double sum with the K table (independent of the FFT field)."""
    L = model.L
    cells = model.lattice.cells
    sig = model.dipoles(state)
    d = (cells[:, None, :] - cells[None, :, :]) % L
    Kij = model.kernel[d[..., 0], d[..., 1]]
    np.fill_diagonal(Kij, 0.0)
    i, j = model.lattice.edges.T
    th = 2 * np.pi * state / 6
    return (-model.J * np.sum(np.cos(th[i] - th[j]))
            + model.D * (0.5 * sig @ Kij @ sig + 0.5 * model.n_sites * model.kernel[0, 0])), \
        Kij @ sig


@pytest.mark.parametrize("lattice", [kd.lattice.triangular(6), kd.lattice.square(4)])
def test_energy_and_field_from_scratch(lattice):
    model = kd.DipolarClock(lattice, J=0.7, D=0.4)
    state = np.random.default_rng(3).integers(0, 6, lattice.n_sites)
    E, h = _pair_energy(model, state)
    assert model.energy(state) == pytest.approx(E, abs=1e-10)
    assert np.max(np.abs(model.field(state) - h)) < 1e-12
    assert model.measure(state)["e"] * model.n_sites == pytest.approx(E, abs=1e-10)


@pytest.mark.parametrize("algorithm", kd.DipolarClock.algorithms)
@pytest.mark.parametrize("sweep", ["ordered", "random"])
def test_energy_bookkeeping_after_many_sweeps(algorithm, sweep):
    """The incrementally updated field and the running energy (sum of the
    accepted dE) equal a from-scratch recomputation after 300 sweeps in one
    kernel call, at a temperature where most proposals flip a dipole."""
    model = kd.DipolarClock(kd.lattice.triangular(12), J=1.0, D=0.5)
    sim = kd.Simulation(model, T=2.0, algorithm=algorithm, rng=4, sweep=sweep)
    res = sim.run(sweeps=300, measure_every=300)
    upd = sim._updater
    assert upd.flips > 20 * model.n_sites
    assert np.max(np.abs(upd.field - model.field(sim.state))) < 1e-9
    E = model.energy(sim.state)
    assert upd.energy == pytest.approx(E, rel=1e-10, abs=1e-8)
    assert res["e"][-1] * model.n_sites == pytest.approx(E, rel=1e-10, abs=1e-8)
    assert res["e_dip"][-1] * model.n_sites == pytest.approx(model.dipolar_energy(sim.state),
                                                             rel=1e-10, abs=1e-8)


@pytest.mark.parametrize("algorithm", kd.DipolarClock.algorithms)
def test_incremental_field_matches_naive_kernel(algorithm):
    """Same seed: the O(1)-per-proposal kernel and the O(N)-per-proposal
    baseline (field recomputed for every proposal) walk the same chain."""
    model = kd.DipolarClock(kd.lattice.triangular(8), J=1.0, D=0.6)
    chains = []
    for naive in (False, True):
        upd = model.updater(algorithm, 1 / 1.3)
        upd.naive = naive
        state = model.random_state(np.random.default_rng(1))
        rng_state = np.array([1, 2, 3, 4], dtype=np.uint64)
        raw = upd.raw_buffers(5)
        upd.run(state, rng_state, 5, 4, raw)
        chains.append((state, model.observables_from_raw(raw)))
    assert np.array_equal(chains[0][0], chains[1][0])
    for key in ("e", "stripe", "abs_m"):
        assert np.allclose(chains[0][1][key], chains[1][1][key], atol=1e-10)


def test_reproducible_and_continues():
    """Same seed, same chain; a second run() continues it (the field is rebuilt
    from scratch at each call, so energies agree to rounding, states exactly)."""
    model = kd.DipolarClock(kd.lattice.triangular(6), D=0.3)
    sa = kd.Simulation(model, T=1.0, rng=9)
    a = sa.run(sweeps=50, thermalize=10)
    b = kd.Simulation(model, T=1.0, rng=9).run(sweeps=50, thermalize=10)
    assert np.array_equal(a["e"], b["e"]) and np.array_equal(a["stripe"], b["stripe"])
    sim = kd.Simulation(model, T=1.0, rng=9)
    sim.run(sweeps=30, thermalize=10)
    c = sim.run(sweeps=20)
    assert np.array_equal(sim.state, sa.state)
    assert np.allclose(c["e"], a["e"][30:], rtol=0, atol=1e-12)
    assert np.array_equal(c["abs_m"], a["abs_m"][30:])


def test_state_replacement_is_safe():
    """The field is rebuilt from the state at each kernel call (parallel
    tempering swaps configurations between updaters)."""
    model = kd.DipolarClock(kd.lattice.triangular(6), D=0.5)
    sim = kd.Simulation(model, T=0.8, rng=2)
    sim.run(sweeps=20)
    sim.state = np.zeros(model.n_sites, dtype=np.int8)
    sim.run(sweeps=20, measure_every=20)
    assert sim._updater.energy == pytest.approx(model.energy(sim.state), abs=1e-9)


def test_checkpoint_restart_continues_the_chain(tmp_path):
    pytest.importorskip("h5py")
    model = kd.DipolarClock(kd.lattice.triangular(6), D=0.3)
    sim = kd.Simulation(model, T=0.8, algorithm="heatbath", rng=3)
    sim.run(sweeps=20)
    sim.checkpoint(tmp_path / "c.h5")
    other = kd.Simulation(model, T=0.8, algorithm="heatbath", rng=99)
    other.restore(tmp_path / "c.h5")
    a, b = sim.run(sweeps=10), other.run(sweeps=10)
    assert np.array_equal(a["abs_m"], b["abs_m"]) and np.array_equal(sim.state, other.state)


def test_parallel_tempering_accepts_the_model():
    model = kd.DipolarClock(kd.lattice.triangular(6), D=0.3)
    pt = kd.ParallelTempering(model, T=[0.6, 0.9, 1.3], algorithm="heatbath", rng=1)
    out = pt.run(steps=30, thermalize=10)
    assert len(out) == 3 and all(len(r["e"]) == 30 for r in out)
    for k in range(3):
        st = pt._state(k)
        assert pt._updaters[k].energy == pytest.approx(model.energy(st), abs=1e-9)


# ------------------------------------------------------------------ observables

def test_observables_of_known_states():
    L = 12
    model = kd.DipolarClock(kd.lattice.triangular(L), J=1.0, D=0.2, stripe_period=4)
    n = model.n_sites
    uniform = np.full(n, 2, dtype=np.int8)
    o = model.measure(uniform)
    assert o["abs_m"] == pytest.approx(1.0) and o["cos_q_phi"] == pytest.approx(1.0)
    assert o["sigma"] == pytest.approx(1.0) and o["stripe"] == pytest.approx(0.0, abs=1e-12)
    y = model.lattice.cells[:, 1]
    for p in (4,):
        stripes = np.where(y % p < p // 2, 0, 1).astype(np.int8)     # adjacent states 0 | 1
        o = model.measure(stripes)
        assert o["stripe"] == pytest.approx(1.0)
        assert o["cos_q_phi"] == pytest.approx(-1.0)           # m halfway between 0 and 1
        assert o["abs_m"] == pytest.approx(math.cos(math.pi / 6))
        assert o["sigma"] == pytest.approx(0.0, abs=1e-12)
    # the three stripe orientations are equivalent
    x = model.lattice.cells[:, 0]
    for c in (x, x + y):
        assert model.measure(np.where(c % 4 < 2, 0, 1))["stripe"] == pytest.approx(1.0)
    # stripe2 is the structure factor at the stripe vectors
    s = model.random_state(np.random.default_rng(0))
    sq = model.structure_factor(s)
    assert sq.sum() == pytest.approx(n)                       # Parseval
    k = L // 4
    direct = (sq[0, k] + sq[k, 0] + sq[k, k]) / (n * model._c_p ** 2)
    assert model.measure(s)["stripe2"] == pytest.approx(direct)


def test_default_stripe_period_minimises_stripe_energy():
    model = kd.DipolarClock(kd.lattice.triangular(24), J=1.0, D=0.3)
    energies = model.stripe_energies()
    assert model.stripe_period == min(energies, key=energies.get) == 4
    assert kd.DipolarClock(kd.lattice.triangular(24), D=0.0).stripe_period == 2
    assert kd.DipolarClock(kd.lattice.triangular(3), D=0.5).stripe_period == 2


def test_structure_factor_recording_and_pictures(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model = kd.DipolarClock(kd.lattice.triangular(6), D=0.3)
    sim = kd.Simulation(model, T=1.0, rng=5, structure_factor=True)
    res = sim.run(sweeps=10)
    assert res["sq"].shape == (10, 6, 6)
    assert np.allclose(res["sq"][-1], model.structure_factor(sim.state))
    assert np.allclose(res["sq"].sum(axis=(1, 2)), model.n_sites)
    assert np.allclose(structure_factor(model, [sim.state, sim.state]), res["sq"][-1])
    fig, axes = plt.subplots(1, 3)
    plot_structure_factor(model, res["sq"].mean(0), ax=axes[0])
    plot_snapshot(model, sim.state, ax=axes[1])
    plot_snapshot(model, sim.state, ax=axes[2], field="dipole")
    fig.savefig(tmp_path / "x.png")
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_snapshot(model, sim.state, field="spin")
    with pytest.raises(ValueError):
        plot_structure_factor(model, np.zeros((3, 3)))


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("lattice", [kd.lattice.honeycomb(4), kd.lattice.chain(8),
                                     kd.lattice.cubic(3), kd.lattice.square(4, periodic=False),
                                     kd.lattice.triangular(4, periodic=False),
                                     kd.lattice.triangular(4, 6),
                                     kd.lattice.from_edges(3, [(0, 1), (1, 2)])])
def test_unsupported_lattices(lattice):
    with pytest.raises(ValueError, match="lattice|periodic|L x L"):
        kd.DipolarClock(lattice)


def test_bad_parameters():
    lat = kd.lattice.triangular(4)
    for bad in (float("nan"), float("inf"), "1", None, True):
        with pytest.raises(ValueError, match="J"):
            kd.DipolarClock(lat, J=bad)
        with pytest.raises(ValueError, match="D"):
            kd.DipolarClock(lat, D=bad)
    for bad in (0, -2, 3, 2.0, True):
        with pytest.raises(ValueError, match="stripe_period"):
            kd.DipolarClock(lat, stripe_period=bad)
    for bad in (0, -4):
        with pytest.raises(ValueError):
            kd.DipolarClock(kd.lattice.triangular(bad))
    with pytest.raises(TypeError):
        kd.DipolarClock("triangular")
    model = kd.DipolarClock(lat)
    with pytest.raises(ValueError, match="algorithm"):
        kd.Simulation(model, T=1.0, algorithm="wolff")
    with pytest.raises(ValueError, match="sweep"):
        kd.Simulation(model, T=1.0, sweep="spiral")
    with pytest.raises(ValueError, match="structure_factor"):
        kd.Simulation(model, T=1.0, structure_factor="yes")
    with pytest.raises(TypeError):
        kd.Simulation(model, T=1.0, delta=0.3)
    for state in (np.full(16, 6), np.zeros(15), np.full(16, -1), np.full(16, 0.5)):
        with pytest.raises(ValueError, match="state"):
            model.check_state(state)
