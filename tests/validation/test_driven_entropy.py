"""Stochastic entropy production of the kd.driven kernels against exact values.

The kernels are discrete-time Markov chains (random-sequential steps, or one
synchronous step of the kinetic Ising model). Each test enumerates the full
transition matrix P of a tiny system here, independently of the kernel code
(its own neighbour lists, energies and acceptance rules), and computes the
exact steady-state entropy production per step (Schnakenberg)

    sigma = sum_{x != y} p(x) P(x -> y) ln(P(x -> y) / P(y -> x)).

The kernel's ``entropy`` observable is the entropy produced per site per sweep
(N steps per sweep for random-sequential dynamics; one synchronous step per
sweep for parallel updates), so it must equal sigma (random-sequential) or
sigma / N (parallel) within 4 standard errors. Equilibrium variants give 0;
the local decomposition (per bond direction) matches the exact per-direction
sums; the TUR bound holds for the particle current.
"""
import itertools
import math

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.analysis import entropy as kd_entropy

Z_MAX = 4.0


# -------------------------------------------------------------- exact values
def stationary(P):
    w, v = np.linalg.eig(P.T)
    p = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    return p / p.sum()


def schnakenberg_step(P, tags=None):
    """Exact EPR per step of the stochastic matrix P (and, with ``tags``
    (n, n) of integer labels, the contributions summed per label)."""
    p = stationary(P)
    n = len(p)
    total = 0.0
    parts = {}
    for x in range(n):
        for y in range(n):
            if x != y and P[x, y] > 0:
                term = p[x] * P[x, y] * math.log(P[x, y] / P[y, x])
                total += term
                if tags is not None:
                    parts[tags[x, y]] = parts.get(tags[x, y], 0.0) + term
    return (total, parts) if tags is not None else total


def grid(shape):
    """Periodic hypercubic grid: sites x + Lx (y + Ly z); for each site the
    list of (neighbour, axis, orientation +1/-1)."""
    sizes = np.array(shape)
    coords = list(itertools.product(*[range(L) for L in reversed(shape)]))
    coords = [tuple(reversed(c)) for c in coords]             # x fastest
    index = {c: i for i, c in enumerate(coords)}
    nbrs = []
    for c in coords:
        row = []
        for a in range(len(shape)):
            for sgn in (1, -1):
                d = list(c)
                d[a] = (d[a] + sgn) % sizes[a]
                row.append((index[tuple(d)], a, sgn))
        nbrs.append(row)
    return nbrs


def exchange_matrix(shape, particles, J, beta_of_axis, E=0.0, drive_axis=0):
    """Transition matrix of random-sequential exchanges: a step picks a site
    (1/N) and one of its 2d neighbours (1/2d); a particle moving along +e_a
    (orientation o) on axis a is accepted with
    min(1, exp(-beta_a (dH - E dx))), dx = o on the drive axis.
    Returns (states, P, tags) with tags[x, y] = the bond axis of the hop."""
    nbrs = grid(shape)
    n = len(nbrs)
    bonds = {(min(i, j), max(i, j), a, (i if o > 0 else j)) for i, row in enumerate(nbrs)
             for j, a, o in row}
    states = [s for s in itertools.product((0, 1), repeat=n) if sum(s) == particles]
    index = {s: k for k, s in enumerate(states)}

    def energy(s):
        sp = [2 * v - 1 for v in s]
        return -J * sum(sp[i] * sp[j] for i, j, _, _ in bonds)

    P = np.zeros((len(states), len(states)))
    tags = -np.ones((len(states), len(states)), dtype=int)
    z = 2 * len(shape)
    for k, s in enumerate(states):
        e0 = energy(s)
        for i in range(n):
            for j, a, o in nbrs[i]:
                if s[i] == s[j]:
                    continue
                t = list(s)
                t[i], t[j] = s[j], s[i]
                t = tuple(t)
                # displacement of the particle along +e_a
                disp = o if s[i] == 1 else -o
                dx = disp if a == drive_axis else 0
                arg = -beta_of_axis[a] * (energy(t) - e0 - E * dx)
                acc = min(1.0, math.exp(arg))
                P[k, index[t]] += acc / (n * z)
                tags[k, index[t]] = a
        P[k, k] = 1.0 - P[k].sum()
    return states, P, tags


def kinetic_matrix(J, h, beta, parallel):
    N = len(h)
    states = list(itertools.product((-1, 1), repeat=N))
    P = np.zeros((2**N, 2**N))
    for a, s in enumerate(states):
        g = [h[i] + sum(J[i][j] * s[j] for j in range(N)) for i in range(N)]
        if parallel:
            for b, t in enumerate(states):
                P[a, b] = np.prod([math.exp(beta * t[i] * g[i]) / (2 * math.cosh(beta * g[i]))
                                   for i in range(N)])
        else:
            for i in range(N):
                t = list(s)
                t[i] = -s[i]
                b = states.index(tuple(t))
                P[a, b] += 1.0 / N / (1.0 + math.exp(2 * beta * s[i] * g[i]))
            P[a, a] = 1.0 - P[a].sum()
    return P


def z_score(res, name, exact):
    return (res.mean(name) - exact) / res.error(name)


# ------------------------------------------------------------------- tests
def test_enumeration_matches_analysis_schnakenberg():
    """The test's own Schnakenberg sum agrees with kd.analysis.entropy."""
    _, P, _ = exchange_matrix((5,), 2, 1.0, [1.0 / 1.5], E=1.0)
    assert schnakenberg_step(P) == pytest.approx(kd_entropy.schnakenberg(P, discrete=True).epr,
                                                 rel=1e-9)


@pytest.mark.parametrize("L, particles, J, T, E", [
    (4, 1, 1.0, 1.0, 1.5),        # one particle: a driven 4-state cycle
    (6, 2, 1.0, 1.5, 1.0),        # short KLS ring with interactions
])
def test_kls_ring_equals_schnakenberg(L, particles, J, T, E):
    _, P, _ = exchange_matrix((L,), particles, J, [1.0 / T], E=E)
    exact = schnakenberg_step(P)
    gas = kd.driven.DrivenLatticeGas(kd.lattice.chain(L), particles=particles, J=J, E=E)
    res = kd.Simulation(gas, T=T, rng=11).run(sweeps=400_000, thermalize=100,
                                             measure_every=100)
    z = z_score(res, "entropy", exact)
    assert abs(z) < Z_MAX, (res.mean("entropy"), res.error("entropy"), exact)
    # a 10 % stronger drive must be resolved
    _, P2, _ = exchange_matrix((L,), particles, J, [1.0 / T], E=1.1 * E)
    assert abs(z_score(res, "entropy", schnakenberg_step(P2))) > Z_MAX
    # EPR = beta E x current in the steady state (the energy is bounded)
    assert abs(res.mean("entropy") - E / T * res.mean("current")) < 4 * res.error("entropy")


def test_kls_square_and_directional_decomposition():
    """4x3 KLS: total EPR and its split over bond directions (entropy_map)."""
    shape, particles, J, T, E = (4, 3), 6, 1.0, 1.0, 4.0
    _, P, tags = exchange_matrix(shape, particles, J, [1 / T, 1 / T], E=E)
    exact, parts = schnakenberg_step(P, tags)
    lat = kd.lattice.square(4, 3)
    gas = kd.driven.DrivenLatticeGas(lat, particles=particles, J=J, E=E)
    res = kd.Simulation(gas, T=T, rng=5, entropy_map=True).run(
        sweeps=1_000_000, thermalize=100, measure_every=500)
    assert abs(z_score(res, "entropy", exact)) < Z_MAX
    per_axis = res["entropy_map"].sum(axis=1) / lat.n_sites      # (n_measure, 2)
    for a in (0, 1):
        x = per_axis[:, a]
        err = kd.analysis.error_of_mean(x)
        assert abs(x.mean() - parts[a]) < Z_MAX * err, (a, x.mean(), err, parts[a])
    # hops across the drive carry a non-zero share (the decomposition is not trivial)
    assert abs(parts[1]) > 10 * kd.analysis.error_of_mean(per_axis[:, 1])


def test_two_temperature_equals_schnakenberg():
    # (on a 3 x 3 torus the exact EPR vanishes by symmetry, hence 4 x 3)
    shape, particles, J, Tx, Ty = (4, 3), 5, 1.0, 1.2, 3.0
    _, P, tags = exchange_matrix(shape, particles, J, [1 / Tx, 1 / Ty])
    exact, parts = schnakenberg_step(P, tags)
    model = kd.driven.TwoTemperatureIsing(kd.lattice.square(4, 3), particles=particles, J=J,
                                          T_y=Ty)
    res = kd.Simulation(model, T=Tx, rng=7, entropy_map=True).run(
        sweeps=4_000_000, thermalize=100, measure_every=1000)
    assert abs(z_score(res, "entropy", exact)) < Z_MAX
    _, P2, _ = exchange_matrix(shape, particles, J, [1 / Tx, 1 / (1.2 * Ty)])
    assert abs(z_score(res, "entropy", schnakenberg_step(P2))) > Z_MAX
    # per bath: the exchanges across x and across y (map columns)
    per_axis = res["entropy_map"].sum(axis=1) / model.n_sites
    for a in (0, 1):
        err = kd.analysis.error_of_mean(per_axis[:, a])
        assert abs(per_axis[:, a].mean() - parts[a]) < Z_MAX * err
    # entropy = -(beta_x Q_x + beta_y Q_y) and, in the steady state, Q_x = -Q_y
    assert abs(res.mean("heat_x") + res.mean("heat_y")) < Z_MAX * res.error("heat_x")


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("storage", ["dense", "sparse"])
def test_kinetic_ising_equals_schnakenberg(parallel, storage):
    J = [[0.0, 1.2, -0.4], [-0.5, 0.0, 0.9], [0.8, 0.3, 0.0]]
    h = [0.1, -0.2, 0.0]
    T = 1.0
    exact = schnakenberg_step(kinetic_matrix(J, h, 1.0 / T, parallel))
    per_sweep = exact / 3 if parallel else exact
    if storage == "dense":
        model = kd.driven.KineticIsing(J, h)
    else:
        # a 3-site ring with one coupling per directed CSR entry (row i, neighbour j: J[i][j])
        lat = kd.lattice.chain(3)
        rows = np.repeat(np.arange(3), lat.degree)
        model = kd.driven.KineticIsing.on_lattice(
            lat, [J[i][j] for i, j in zip(rows, lat.indices)], h)
    alg = "parallel" if parallel else "glauber"
    res = kd.Simulation(model, T=T, algorithm=alg, rng=3).run(
        sweeps=200_000 if parallel else 100_000, thermalize=100, measure_every=50)
    assert abs(z_score(res, "entropy", per_sweep)) < Z_MAX
    wrong = schnakenberg_step(kinetic_matrix(J, h, 1.0 / (1.15 * T), parallel))
    assert abs(z_score(res, "entropy", wrong / 3 if parallel else wrong)) > Z_MAX


@pytest.mark.parametrize("case", ["kls", "tti", "glauber", "parallel"])
def test_detailed_balance_gives_zero(case):
    rng = np.random.default_rng(2)
    if case == "kls":
        model, T, alg = kd.driven.DrivenLatticeGas(kd.lattice.square(6), E=0.0), 2.0, None
    elif case == "tti":
        model, T, alg = kd.driven.TwoTemperatureIsing(kd.lattice.square(6), 0.3, T_y=2.0), 2.0, None
    else:
        A = rng.normal(size=(12, 12))
        Js = (A + A.T) / 2 / np.sqrt(12)
        np.fill_diagonal(Js, 0.0)
        model, T, alg = kd.driven.KineticIsing(Js, h=0.1), 1.0, case
    sweeps = 40_000
    res = kd.Simulation(model, T=T, algorithm=alg, rng=4).run(sweeps=sweeps, thermalize=200,
                                                              measure_every=20)
    # With detailed balance the entropy produced is a boundary term (-beta
    # Delta H for the sequential kernels), so its series telescopes and the
    # autocorrelation-aware error can be ~0; allow a boundary term O(1) per site.
    assert abs(res.mean("entropy")) < Z_MAX * res.error("entropy") + 20.0 / sweeps
    assert res.error("entropy") < 5e-3


def test_tur_bound_for_the_particle_current():
    """var(J_t) / <J_t>^2 >= 2 / (sigma t) for the net hops J_t in t steps.

    The TUR is proven for continuous time; a random-sequential chain moves a
    given particle with probability O(1/N) per step, close to that limit, and
    the bound holds here with a wide margin."""
    L, particles, J, T, E = 6, 2, 1.0, 1.5, 1.0
    _, P, _ = exchange_matrix((L,), particles, J, [1 / T], E=E)
    sigma = schnakenberg_step(P)                                    # per step
    gas = kd.driven.DrivenLatticeGas(kd.lattice.chain(L), particles=particles, J=J, E=E)
    every = 200
    res = kd.Simulation(gas, T=T, rng=9).run(sweeps=400_000, thermalize=100,
                                            measure_every=every)
    hops = res["current"] * L * every                     # net hops per window of t steps
    t = every * L
    ratio = hops.var(ddof=1) / hops.mean() ** 2 * sigma * t / 2   # TUR: >= 1
    # jackknife-free error: relative error of var/mean^2 from the sample size
    n = len(hops)
    rel = math.sqrt(2 / (n - 1)) + 2 * hops.std(ddof=1) / (hops.mean() * math.sqrt(n))
    assert ratio - 1 > -Z_MAX * rel * ratio, (ratio, rel)
    bound = kd_entropy.tur_bound(hops, t)
    assert bound.value < sigma + Z_MAX * bound.error


# ------------------------------------------------- reversible reaction schemes
def generator_epr(rates, n_states):
    """Continuous-time EPR sum_{(x, y, mech)} p_x w ln(w / w_reverse) for
    mechanism-resolved rates {(x, y, mech): w} (each mechanism is its own
    edge; every edge must have its reverse)."""
    Q = np.zeros((n_states, n_states))
    for (x, y, _), w in rates.items():
        Q[x, y] += w
    np.fill_diagonal(Q, -Q.sum(axis=1))
    w_, v = np.linalg.eig(Q.T)
    p = np.real(v[:, np.argmin(np.abs(w_))])
    p /= p.sum()
    return sum(p[x] * w * math.log(w / rates[(y, x, m)]) for (x, y, m), w in rates.items())


def slope(res):
    """Entropy production rate per site per unit time from the cumulative
    series (increments between recordings, autocorrelation-aware error)."""
    inc = np.diff(res["entropy"]) / np.diff(res["t"])
    return inc.mean(), kd.analysis.error_of_mean(inc)


def test_reaction_ring_with_pair_rules_equals_schnakenberg():
    """4-site ring, K = 1: creation/decay (one slot), branching/coalescence
    and hopping (neighbour pairs). Exact rates written out per bond from the
    documented convention (a rule with two equal reactants fires once per
    bond, orientation uniform)."""
    import kadanoff.reaction as rd
    L, k_dec, k_cre, k_br, k_co, D = 4, 1.0, 0.7, 1.5, 0.4, 0.5
    states = list(itertools.product((0, 1), repeat=L))
    index = {s: k for k, s in enumerate(states)}
    rates = {}

    def add(x, t, mech, w):
        key = (index[x], index[tuple(t)], mech)
        rates[key] = rates.get(key, 0.0) + w

    for s in states:
        for i in range(L):
            t = list(s)
            t[i] = 1 - s[i]
            add(s, t, ("site", i), k_dec if s[i] else k_cre)
        for i in range(L):
            j = (i + 1) % L
            bond = ("bond", i)
            for a, b in ((i, j), (j, i)):
                if s[a] == 1 and s[b] == 0:
                    t = list(s)
                    t[b] = 1
                    add(s, t, bond, k_br)                 # A,0 -> A,A
                    t = list(s)
                    t[a], t[b] = 0, 1
                    add(s, t, bond, D)                    # A,0 -> 0,A
            if s[i] == 1 and s[j] == 1:
                for dead in (i, j):                       # A,A -> A,0, orientation uniform
                    t = list(s)
                    t[dead] = 0
                    add(s, t, bond, k_co / 2)
    exact = generator_epr(rates, len(states)) / L
    sysm = rd.System(kd.lattice.chain(L), "A",
                     [f"A <-> 0 @ {k_dec}, {k_cre}", f"A,0 <-> A,A @ {k_br}, {k_co}"],
                     diffusion=D, entropy=True)
    res = sysm.run(20_000.0, rng=8, record_every=2.0, initial=[1, 0, 1, 0])
    mean, err = slope(res)
    assert abs(mean - exact) < Z_MAX * err, (mean, err, exact)
    assert abs(mean - 1.1 * exact) > Z_MAX * err           # resolves a 10 % change


def test_reaction_onsite_capacity_two_equals_count_master_equation():
    """Independent sites with K = 2 slots: 0 <-> A (one slot), A + A <-> B
    (two slots of a site), B <-> 0. The reference is the master equation of
    the site counts (n_A, n_B); slot-level bookkeeping differs from it by a
    boundary term only."""
    import kadanoff.reaction as rd
    kc, kd_, kf, kb, kbd, kbc = 0.5, 0.3, 1.0, 0.6, 0.2, 0.1
    states = [(a, b) for a in range(3) for b in range(3) if a + b <= 2]
    index = {s: k for k, s in enumerate(states)}
    rates = {}
    for a, b in states:
        v = 2 - a - b
        moves = [((a + 1, b), kc * v, "c"), ((a - 1, b), kd_ * a, "c"),
                 ((a - 2, b + 1), kf * a * (a - 1) / 2, "r"), ((a + 2, b - 1), kb * b * v, "r"),
                 ((a, b - 1), kbd * b, "b"), ((a, b + 1), kbc * v, "b")]
        for t, w, m in moves:
            if w > 0:
                rates[(index[(a, b)], index[t], m)] = w
    exact = generator_epr(rates, len(states))
    sysm = rd.System(kd.lattice.chain(50), "A,B",
                     [f"0 <-> A @ {kc}, {kd_}", f"A + A <-> B @ {kf}, {kb}",
                      f"B <-> 0 @ {kbd}, {kbc}"], capacity=2, entropy=True)
    res = sysm.run(400.0, rng=3, record_every=0.5, initial=np.zeros((50, 2), dtype=int))
    mean, err = slope(res)
    assert abs(mean - exact) < Z_MAX * err, (mean, err, exact)
    assert exact > 10 * err


def test_reaction_detailed_balance_zero_and_ensemble_cycle():
    """A scheme with detailed balance (the cycle A -> B -> 0 -> A has equal
    products of forward and backward rates): zero EPR. A driven 3-cycle run
    as an ensemble of independent trajectories (started in the uniform,
    stationary state): the mean entropy per site produced in t in [5, 10]
    equals the exact rate x 5."""
    import kadanoff.reaction as rd
    eq = rd.System(kd.lattice.chain(20), "A,B",
                   ["A <-> B @ 2.0, 1.0", "B <-> 0 @ 0.5, 1.0", "0 <-> A @ 0.7, 0.7"],
                   entropy=True)
    res = eq.run(500.0, rng=4, record_every=1.0, initial=np.zeros(20, dtype=int))
    mean, err = slope(res)
    assert abs(mean) < Z_MAX * err
    cyc = rd.System(kd.lattice.chain(10), "A,B,C",
                    ["A <-> B @ 2, 0.5", "B <-> C @ 2, 0.5", "C <-> A @ 2, 0.5"], entropy=True)
    ens = cyc.ensemble(400, [0.0, 5.0, 10.0], rng=5, initial=np.ones(10, dtype=int))
    assert ens.entropy.shape == (400, 3)
    rate = ens.entropy[:, 2] - ens.entropy[:, 1]             # per site, over t in [5, 10]
    exact = 1.5 / 3 * 3 * math.log(4) * 5.0                 # uniform p, J = (2 - 0.5) / 3
    assert abs(rate.mean() - exact) < Z_MAX * rate.std(ddof=1) / math.sqrt(len(rate))


def test_fluctuation_theorem_single_particle_ring():
    """One particle on a driven ring: p is uniform, so the medium entropy is
    the total entropy production and, per window of one sweep (started in
    the steady state), exactly P(s) / P(-s) = e^s and <e^{-s}> = 1. Windows
    are independent (translation invariance), so the errors are binomial."""
    L, E, T = 4, 0.6, 1.0
    gas = kd.driven.DrivenLatticeGas(kd.lattice.chain(L), particles=1, J=0.0, E=E)
    res = kd.Simulation(gas, T=T, rng=21).run(sweeps=400_000, measure_every=1)
    s = np.round(res["entropy"] * L / (E / T)).astype(int)       # net hops per sweep
    n = len(s)
    for k in (1, 2):
        n_plus, n_minus = np.sum(s == k), np.sum(s == -k)
        ratio = n_plus / n_minus
        err = ratio * math.sqrt(1 / n_plus + 1 / n_minus)
        assert abs(ratio - math.exp(k * E / T)) < Z_MAX * err, (k, ratio, err)
    w = np.exp(-s * E / T)
    assert abs(w.mean() - 1.0) < Z_MAX * w.std(ddof=1) / math.sqrt(n)
