import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import kadanoff as kd
from kadanoff import lattice


def csr_pairs(lat):
    rows = np.repeat(np.arange(lat.n_sites), np.diff(lat.indptr))
    return sorted(zip(rows.tolist(), lat.indices.tolist()))


@pytest.mark.parametrize("factory, L, n_sites, n_bonds, degree", [
    (lattice.square, 5, 25, 50, 4),
    (lattice.triangular, 5, 25, 75, 6),
    (lattice.honeycomb, 4, 32, 48, 3),
    (lattice.chain, 7, 7, 7, 2),
    (lattice.cubic, 3, 27, 81, 6),
])
def test_periodic_counts(factory, L, n_sites, n_bonds, degree):
    lat = factory(L)
    assert lat.n_sites == n_sites
    assert lat.n_bonds == n_bonds
    assert np.all(lat.degree == degree)
    assert lat.indptr[-1] == 2 * n_bonds
    # symmetric table: j in row i  <=>  i in row j
    pairs = csr_pairs(lat)
    assert pairs == sorted((j, i) for i, j in pairs)


@pytest.mark.parametrize("factory, L, n_bonds", [
    (lattice.square, 4, 24), (lattice.triangular, 4, 33), (lattice.honeycomb, 3, 21),
    (lattice.chain, 5, 4), (lattice.cubic, 3, 54)])
def test_open_bonds_have_unit_length(factory, L, n_bonds):
    lat = factory(L, periodic=False)
    assert lat.n_bonds == n_bonds
    d = np.linalg.norm(lat.coords[lat.edges[:, 0]] - lat.coords[lat.edges[:, 1]], axis=1)
    np.testing.assert_allclose(d, 1.0)


def test_square_site_order_and_rectangle():
    lat = lattice.square(4, 3)
    assert lat.n_sites == 12 and lat.shape == (4, 3)
    # site x + Lx*y: site 5 = (1, 1) has neighbours (0,1)=4, (2,1)=6, (1,0)=1, (1,2)=9
    assert sorted(lat.indices[lat.indptr[5]:lat.indptr[6]].tolist()) == [1, 4, 6, 9]


def test_periodic_L2_has_double_bonds():
    lat = lattice.chain(2)
    assert lat.n_bonds == 2
    assert lat.indices.tolist() == [1, 1, 0, 0]


def test_bipartite_detection():
    assert lattice.square(4).two_coloring() is not None
    assert lattice.honeycomb(3).two_coloring() is not None
    assert lattice.triangular(3).two_coloring() is None
    assert lattice.chain(5).two_coloring() is None          # odd ring
    col = lattice.square(4, periodic=False).two_coloring()
    e = lattice.square(4, periodic=False).edges
    assert np.all(col[e[:, 0]] != col[e[:, 1]])


def test_from_edges_and_weights():
    lat = lattice.from_edges(3, [(0, 1), (1, 2)], weights=[1.0, -2.0])
    assert lat.n_bonds == 2 and lat.weights.tolist() == [1.0, -2.0]
    # the per-entry weights follow their bond
    w = lat.entry_values(lat.weights)
    rows = np.repeat(np.arange(3), np.diff(lat.indptr))
    for r, c, x in zip(rows, lat.indices, w):
        assert x == (1.0 if {r, c} == {0, 1} else -2.0)
    assert np.all(lat.bond_values(2.0) == [2.0, -4.0])


def test_from_networkx_and_sparse_agree():
    g = nx.petersen_graph()
    a = lattice.from_graph(g)
    b = lattice.from_graph(sp.csr_matrix(nx.to_scipy_sparse_array(g)))
    assert a.n_sites == b.n_sites == 10 and a.n_bonds == b.n_bonds == 15
    assert csr_pairs(a) == csr_pairs(b)
    for _, _, d in g.edges(data=True):
        d["J"] = 0.5
    assert np.all(lattice.from_graph(g, weight="J").weights == 0.5)


def test_arrays_are_read_only():
    lat = lattice.square(3)
    with pytest.raises(ValueError):
        lat.indices[0] = 2


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, 4.0, "4", None, True])
def test_bad_sizes(bad):
    for factory in (lattice.square, lattice.triangular, lattice.honeycomb, lattice.chain,
                    lattice.cubic):
        with pytest.raises(ValueError, match="L"):
            factory(bad)


def test_bad_second_size_and_periodic():
    with pytest.raises(ValueError, match="Ly"):
        lattice.square(4, 1)
    with pytest.raises(ValueError, match="Lz"):
        lattice.cubic(4, 4, 0)
    with pytest.raises(ValueError, match="periodic"):
        lattice.square(4, periodic="yes")


def test_bad_edges_and_weights():
    with pytest.raises(ValueError, match="weights"):
        lattice.from_edges(3, [(0, 1), (1, 2)], weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        lattice.from_edges(3, [(0, 1)], weights=[np.nan])
    with pytest.raises(ValueError, match="edges"):
        lattice.from_edges(3, [(0, 3)])
    with pytest.raises(ValueError, match="self-loops"):
        lattice.from_edges(3, [(1, 1)])
    with pytest.raises(ValueError, match="edges"):
        lattice.from_edges(3, [(0, 1, 2)])
    with pytest.raises(ValueError, match="symmetric"):
        lattice.from_graph(sp.csr_matrix(np.array([[0, 1], [0, 0]])))
    with pytest.raises(TypeError, match="graph"):
        lattice.from_graph([[0, 1]])
    with pytest.raises(ValueError, match="J"):
        lattice.square(3).bond_values(np.ones(4))


def test_top_level_names():
    assert kd.lattice.square is lattice.square
    assert isinstance(kd.lattice.square(3), kd.Lattice)
