"""Stochastic reaction-diffusion on lattices: interacting particle systems in exact continuous time.

Species live on the sites of any :class:`kadanoff.Lattice`. Each site has
``capacity`` K slots (K = 1, the default, is site restriction: a site is empty
or holds one particle); every slot is vacant (``0``) or holds one particle.
Reactions are rules, written as strings and parsed once::

    "A -> 0 @ 1.0"          on-site, one slot: decay (also "A -> B", "0 -> A")
    "A -> 2A @ 0.5"         on-site, two slots: birth into a free slot of the
                            same site (needs K >= 2; same as "A + 0 -> A + A")
    "A + B -> 2A @ 1.0"     on-site predation (K >= 2)
    "A,0 -> A,A @ 0.8"      nearest-neighbour pair: left entry at site i, right
                            entry at a neighbour j (infection, reproduction)
    "A,B -> A,A @ 1.5"      predation;  "A,A -> 0,0": annihilation;
    "A,A -> A,0": coalescence;  "A,B -> B,A": exchange;  "A,0 -> 0,A": hopping

**Rate convention (mass action over slots).** A rule fires at its rate for
every combination of reactant slots, vacancies included: a one-slot rule per
slot holding its reactant; an on-site two-slot rule per unordered pair of
distinct slots of one site; a neighbour rule per pair of slots on a bond
(i, j), one at each end. With K = 1: per site, and per bond (unordered pair of
neighbours) in the reactant configuration. A neighbour rule with two equal
reactants ("A,A -> A,0") fires once per bond at its rate and the orientation
(which site gets which product) is chosen uniformly. On-site sides are
multisets padded with vacancies, so with K slots ``"A -> 2A @ s"`` gives a
particle the birth rate s x (free slots of its site). ``diffusion=D`` adds
``"X,0 -> 0,X @ D"``: a particle hops to each neighbouring vacancy at rate D.

**Dynamics.** Continuous time, exact: the engine (``kadanoff._reaction``) is
a rejection-based (uniformised) random-sequential scheme with exponential
waiting times, so trajectories follow the master equation. Runs stop by
themselves in absorbing states and report the absorption time (the time of
the last event).

    >>> import kadanoff as kd
    >>> from kadanoff.models import reaction as rd
    >>> cp = rd.contact_process(kd.lattice.chain(200), rate=3.5)
    >>> res = cp.run(20.0, rng=1, record_every=1.0)
    >>> res["density"].shape, float(res["t"][-1])
    ((21,), 20.0)
"""
from __future__ import annotations

import math
import numbers
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import _random
from ..results import Estimate, Results, versions

__all__ = [
    "Rule", "parse_rule", "parse_reversible", "System", "Ensemble",
    "contact_process", "birth_death", "annihilation", "two_species_annihilation",
    "lotka_volterra", "rock_paper_scissors",
    "correlation", "plot_snapshot", "plot_spacetime", "save_movie",
]

_STATUS_TIME, _STATUS_ABSORBED, _STATUS_PROPOSALS = 0, 1, 2


def _kernel():
    from .. import _reaction
    return _reaction


# ------------------------------------------------------------------ rules

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fail(text, pos, why):
    raise ValueError(f"malformed rule {text!r} at position {pos}: {why}\n"
                     f"    {text}\n    {' ' * pos}^")


@dataclass(frozen=True)
class Rule:
    """One parsed reaction.

    ``kind`` is ``"site"`` (on-site; ``left``/``right`` are multisets of
    species names, vacancies omitted) or ``"pair"`` (nearest neighbours;
    ``left``/``right`` are the two positions, ``"0"`` for a vacancy).
    """

    kind: str
    left: tuple
    right: tuple
    rate: float
    text: str

    def __str__(self):
        if self.kind == "pair":
            return f"{','.join(self.left)} -> {','.join(self.right)} @ {self.rate:g}"
        lhs = " + ".join(self.left) or "0"
        rhs = " + ".join(self.right) or "0"
        return f"{lhs} -> {rhs} @ {self.rate:g}"


def _parse_side(text, start, end):
    """Parse text[start:end] -> ('pair', [a, b]) or ('site', [names...])."""
    seg = text[start:end]
    if seg.strip() == "":
        _fail(text, start, "empty side (write 0 for nothing)")
    if "," in seg:
        parts, p = [], start
        for piece in seg.split(","):
            s = piece.strip()
            off = p + (len(piece) - len(piece.lstrip()))
            if not s:
                _fail(text, off, "empty position in a neighbour pair")
            if not (s == "0" or _NAME.fullmatch(s)):
                _fail(text, off, f"a neighbour-pair position holds one species name or 0, "
                                 f"got {s!r}")
            parts.append((s, off))
            p += len(piece) + 1
        if len(parts) != 2:
            _fail(text, start, f"a neighbour pair has exactly 2 positions, got {len(parts)}")
        return "pair", parts
    items, p = [], start
    for piece in seg.split("+"):
        s = piece.strip()
        off = p + (len(piece) - len(piece.lstrip()))
        if not s:
            _fail(text, off, "missing term around '+'")
        m = re.fullmatch(r"(\d*)\s*([A-Za-z_][A-Za-z0-9_]*|0)", s)
        if not m:
            _fail(text, off, f"expected a species name, 0, or a count and a name like 2A, "
                             f"got {s!r}")
        n = int(m.group(1)) if m.group(1) else 1
        if m.group(2) == "0":
            if m.group(1):
                _fail(text, off, "a count before 0 makes no sense")
        else:
            if n < 1:
                _fail(text, off, "a count must be at least 1")
            items.extend([(m.group(2), off)] * n)
        p += len(piece) + 1
    return "site", items


def parse_rule(rule, rate=None) -> Rule:
    """Parse ``"A,B -> A,A @ 1.5"`` (or a string without ``@`` plus ``rate``).

    Malformed strings raise ValueError showing the string and the position.
    Species names are identifiers; ``0`` is a vacancy. Names are not checked
    against a species list here (``System`` does that).
    """
    if isinstance(rule, Rule):
        return rule
    if not isinstance(rule, str):
        raise TypeError(f"a rule must be a string like 'A,B -> A,A @ 1.5', got {rule!r}")
    text = rule
    if "@" in text:
        at = text.index("@")
        if rate is not None:
            _fail(text, at, "rate given twice (in the string and as an argument)")
        rtext = text[at + 1:].strip()
        try:
            rate = float(rtext)
        except ValueError:
            _fail(text, at + 1 + (len(text[at + 1:]) - len(text[at + 1:].lstrip())),
                  f"the rate after @ must be a number, got {rtext!r}")
        body_end = at
    else:
        if rate is None:
            _fail(text, len(text), "missing rate: end the rule with '@ <rate>'")
        body_end = len(text)
    if isinstance(rate, bool) or not isinstance(rate, (numbers.Real, float)):
        raise ValueError(f"rule {text!r}: the rate must be a real number, got {rate!r}")
    rate = float(rate)
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"rule {text!r}: rates must be finite and >= 0, got {rate}")
    arrow = text.find("->", 0, body_end)
    if arrow < 0:
        _fail(text, 0, "missing '->'")
    if text.find("->", arrow + 2, body_end) >= 0:
        _fail(text, text.find("->", arrow + 2, body_end), "more than one '->'")
    lk, left = _parse_side(text, 0, arrow)
    rk, right = _parse_side(text, arrow + 2, body_end)
    if lk != rk:
        seg = text[arrow + 2:body_end]
        pos = arrow + 2 + len(seg) - len(seg.lstrip())
        _fail(text, pos, "both sides must be neighbour pairs (A,B) or both on-site (A + B); "
                         f"the left side is {'a pair' if lk == 'pair' else 'on-site'}")
    if lk == "pair":
        return Rule("pair", tuple(s for s, _ in left), tuple(s for s, _ in right), rate, text)
    lnames = tuple(sorted(s for s, _ in left))
    rnames = tuple(sorted(s for s, _ in right))
    n = max(len(lnames), len(rnames))
    if n == 0:
        _fail(text, 0, "a rule must involve at least one particle")
    if n > 2:
        _fail(text, 0, f"on-site rules involve at most 2 particles per side, got {n}")
    return Rule("site", lnames, rnames, rate, text)


# ----------------------------------------------------------- compiling


def parse_reversible(rule, rates=None) -> tuple:
    """Parse ``"A + B <-> C @ 2.0, 0.5"`` (or a string without ``@`` plus
    ``rates = (k_forward, k_backward)``) into the two rules
    ``"A + B -> C @ 2.0"`` and ``"C -> A + B @ 0.5"``."""
    if not isinstance(rule, str) or "<->" not in rule:
        raise ValueError(f"a reversible rule is a string with '<->', got {rule!r}")
    text = rule
    body, at, rtext = text.partition("@")
    if at:
        if rates is not None:
            _fail(text, len(body), "rates given twice (in the string and as an argument)")
        parts = [x.strip() for x in rtext.split(",")]
        if len(parts) != 2:
            _fail(text, len(body) + 1, "a reversible rule needs two rates: "
                                       "'@ k_forward, k_backward'")
        rates = parts
    if rates is None:
        _fail(text, len(text), "missing rates: end the rule with '@ k_forward, k_backward'")
    if isinstance(rates, str) or not hasattr(rates, "__len__") or len(rates) != 2:
        raise ValueError(f"rule {text!r}: give two rates (k_forward, k_backward), got {rates!r}")
    k = []
    for r in rates:
        try:
            k.append(float(r))
        except (TypeError, ValueError):
            _fail(text, len(body) + 1, f"the rates after @ must be numbers, got {r!r}")
    arrow = body.index("<->")
    if body.find("<->", arrow + 3) >= 0 or "->" in body[arrow + 3:] or "->" in body[:arrow]:
        _fail(text, arrow, "a reversible rule has exactly one '<->' and no '->'")
    left, right = body[:arrow], body[arrow + 3:]
    fwd = parse_rule(f"{left.strip()} -> {right.strip()}", k[0])
    bwd = parse_rule(f"{right.strip()} -> {left.strip()}", k[1])
    return Rule(fwd.kind, fwd.left, fwd.right, fwd.rate, text), \
        Rule(bwd.kind, bwd.left, bwd.right, bwd.rate, text)


def _one(text, rate=None):
    if isinstance(text, str) and "<->" in text:
        return list(parse_reversible(text, rate))
    return [parse_rule(text, rate)]


def _as_rules(rules):
    if isinstance(rules, (str, Rule)):
        rules = [rules]
    if isinstance(rules, Mapping):
        return [r for k, v in rules.items() for r in _one(k, v)]
    out = []
    for r in rules:
        if isinstance(r, (tuple, list)) and len(r) == 2 and isinstance(r[0], str):
            out.extend(_one(r[0], r[1]))
        else:
            out.extend(_one(r))
    return out


class System:
    """Species on a lattice with reaction rules, run in exact continuous time.

    Parameters
    ----------
    lattice : kadanoff.Lattice
    species : sequence of str, or str
        Species names (identifiers, not ``"0"``); ``"A,B"`` or ``["A", "B"]``.
        Labels in states: 0 = vacancy, 1 + k = ``species[k]``.
    rules : sequence of rule strings (``"A,B -> A,A @ 1.5"``), ``(string, rate)``
        pairs, or a mapping ``{string: rate}``. See the module docstring for
        the grammar and the rate convention (mass action over slots; per bond
        for neighbour rules). A reversible reaction is one string with both
        rates, ``"A + B <-> C @ k_forward, k_backward"`` (or a pair
        ``(string, (k_f, k_b))``); it stands for the two rules.
    diffusion : float or mapping {species: rate}, optional
        Hopping rate D to each neighbouring vacancy (adds ``"X,0 -> 0,X @ D"``).
    capacity : int >= 1
        Slots per site (1: site restriction).
    initial : array_like, optional
        Default initial configuration for ``run`` (see :meth:`check_state`).
    name : str
        Short description for metadata.
    entropy : bool
        Accumulate the stochastic entropy production (see below); needs every
        transition to have a reverse with a positive rate (ValueError naming
        the irreversible rules otherwise).

    Neighbour rules act on every bond at the same rate: the lattice's bond
    weights are not used.

    **Entropy production** (``entropy=True``). Every executed event adds
    ln(w_forward / w_backward) (k_B = 1): w_forward is the total rate, over
    the rules of the event's kind (one slot / two slots of one site /
    neighbour pair), of the change it made to the slots it touched, and
    w_backward the total rate of the change back on the same slots (each
    kind is its own mechanism, like distinct reaction channels). ``run``
    records ``entropy`` (cumulative, per site, from t = 0) and ``ensemble``
    ``Ensemble.entropy`` (per site, per run and time), so the steady-state
    entropy production rate per site is the slope. The bookkeeping is on
    slots; with K > 1 it differs from that of the site-count master
    equation by a boundary term only (the change of ln of the number of
    slot labellings of the counts), so the steady-state rates agree with
    the Schnakenberg value of the count master equation. Detailed-balance
    schemes give zero within errors.

    Attributes
    ----------
    state : ndarray
        Configuration at the end of the last run (labels of shape (N,) for
        K = 1, counts of shape (N, S) otherwise).
    """

    def __init__(self, lattice, species, rules, *, diffusion=None, capacity=1, initial=None,
                 name="reaction", params=None, entropy=False):
        if not hasattr(lattice, "indptr") or not hasattr(lattice, "n_sites"):
            raise TypeError(f"lattice must be a kadanoff Lattice, got {type(lattice).__name__}")
        self.lattice = lattice
        if isinstance(species, str):
            species = [s.strip() for s in species.split(",")]
        species = list(species)
        if not species:
            raise ValueError("species must name at least one species")
        for s in species:
            if not isinstance(s, str) or not _NAME.fullmatch(s):
                raise ValueError(f"species names must be identifiers like 'A' or 'prey', "
                                 f"got {s!r}")
        if len(set(species)) != len(species):
            raise ValueError(f"species names must be distinct, got {species}")
        if len(species) > 250:
            raise ValueError("at most 250 species")
        self.species = tuple(species)
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) \
                or not 1 <= capacity <= 64:
            raise ValueError(f"capacity must be an integer in [1, 64], got {capacity!r}")
        self.capacity = int(capacity)
        self.name = name
        self.params = dict(params or {})
        rules = _as_rules(rules)
        self.diffusion = self._check_diffusion(diffusion)
        for sp, d in self.diffusion.items():
            if d > 0:
                rules.append(parse_rule(f"{sp},0 -> 0,{sp}", d))
        for r in rules:
            self._check_rule(r)
        self.rules = tuple(rules)
        if not isinstance(entropy, (bool, np.bool_)):
            raise TypeError(f"entropy must be True or False, got {entropy!r}")
        self.entropy = bool(entropy)
        self._compile()
        if self.entropy and self._lnr is None:
            raise ValueError("entropy=True needs every reaction to have a reverse with a "
                             f"positive rate; without one: {self._irreversible}. Add the "
                             "reverse rules (e.g. 'A + B <-> C @ k_f, k_b')")
        self.initial = None if initial is None else self.check_state(initial)
        self._labels = None

    # -- validation -------------------------------------------------------
    def _check_diffusion(self, diffusion):
        if diffusion is None:
            return {}
        if isinstance(diffusion, Mapping):
            out = {}
            for k, v in diffusion.items():
                if k not in self.species:
                    raise ValueError(f"diffusion names unknown species {k!r}; species are "
                                     f"{list(self.species)}")
                out[k] = self._rate(v, f"diffusion[{k!r}]")
            return out
        d = self._rate(diffusion, "diffusion")
        return {s: d for s in self.species}

    @staticmethod
    def _rate(v, what):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{what} must be a real number >= 0, got {v!r}")
        v = float(v)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{what} must be finite and >= 0, got {v}")
        return v

    def _check_rule(self, r):
        names = set(r.left) | set(r.right)
        names.discard("0")
        unknown = sorted(names - set(self.species))
        if unknown:
            raise ValueError(f"rule {r.text!r} names unknown species {unknown}; species are "
                             f"{list(self.species)}")
        if r.kind == "site" and max(len(r.left), len(r.right)) > self.capacity:
            raise ValueError(f"rule {r.text!r} needs {max(len(r.left), len(r.right))} slots "
                             f"on one site but capacity is {self.capacity}; raise capacity or "
                             f"write a neighbour rule such as 'A,0 -> A,A'")

    # -- compilation ------------------------------------------------------
    def _label(self, name):
        return 0 if name == "0" else 1 + self.species.index(name)

    def _directed(self):
        """Directed channels: (kind, a, b, a', b', rate); kind 0 single, 1 on-site, 2 pair."""
        out = []
        for r in self.rules:
            if r.rate == 0:
                continue
            if r.kind == "pair":
                x, y = (self._label(s) for s in r.left)
                x2, y2 = (self._label(s) for s in r.right)
                kind = 2
            else:
                n = max(len(r.left), len(r.right))
                left = [self._label(s) for s in r.left] + [0] * (n - len(r.left))
                right = [self._label(s) for s in r.right] + [0] * (n - len(r.right))
                if n == 1:
                    if left[0] != right[0]:
                        out.append((0, left[0], 0, right[0], 0, r.rate))
                    continue
                # slots are exchangeable: nonzero initiator first, and a
                # reactant label that survives keeps its slot
                x, y = sorted(left, reverse=True)
                p, q = right
                if x in (p, q):
                    x2, y2 = x, (q if p == x else p)
                elif y in (p, q):
                    x2, y2 = (q if p == y else p), y
                else:
                    x2, y2 = p, q
                kind = 1
            if (x, y) == (x2, y2) or (x == y and (x, y) == (y2, x2)):
                continue                                  # no change
            if x == 0 and y != 0:
                x, y, x2, y2 = y, x, y2, x2               # the particle initiates
            out.append((kind, x, y, x2, y2, r.rate / 2 if x == y else r.rate))
        return out

    def _compile(self):
        L = len(self.species) + 1
        K = self.capacity
        zmax = self.lattice.max_degree
        chans = self._directed()
        if zmax == 0 and any(c[0] == 2 for c in chans):
            raise ValueError("the lattice has no bonds, so neighbour rules cannot fire")
        groups = {}
        for kind, a, b, a2, b2, rate in chans:
            q = a if kind == 0 else (L + a * L + b if kind == 1 else L + L * L + a * L + b)
            groups.setdefault(q, []).append((rate, a2, b2, kind, a, b))
        nq = L + 2 * L * L
        ptr = np.zeros(nq + 1, dtype=np.int32)
        cum, prod, order = [], [], []
        totals = np.zeros(nq)
        for q in range(nq):
            c = 0.0
            for rate, a2, b2, kind, a, b in groups.get(q, []):
                c += rate
                cum.append(c)
                prod.append((a2, b2))
                order.append((kind, a, b, a2, b2))
            totals[q] = c
            ptr[q + 1] = len(cum)
        self._lnr, self._irreversible = self._log_ratios(chans, order)
        par = np.zeros((L, 8))
        inv = lambda v: 1.0 / v if v > 0 else 0.0
        for a in range(L):
            u = totals[a]
            o = totals[L + a * L: L + a * L + L].max()
            p = totals[L + L * L + a * L: L + L * L + a * L + L].max()
            R = u + (K - 1) * o + zmax * K * p
            par[a] = (R, u, (K - 1) * o, o, p, inv(R), inv(o), inv(p))
        self._L, self._zmax = L, zmax
        self._par = np.ascontiguousarray(par)
        self._ptr = ptr
        self._cum = np.ascontiguousarray(cum, dtype=np.float64).reshape(-1)
        self._prod = np.ascontiguousarray(np.array(prod, dtype=np.uint8).reshape(-1, 2))
        self._indptr = np.ascontiguousarray(self.lattice.indptr, dtype=np.int32)
        self._indices = np.ascontiguousarray(self.lattice.indices, dtype=np.int32)
        self._channels = chans
        lat = self.lattice
        grid = np.zeros(0, dtype=np.int64)
        if lat.periodic and lat.shape and lat.name in ("chain", "square") and \
                zmax == 2 * len(lat.shape) and lat.common_degree == zmax:
            grid = np.array(lat.shape, dtype=np.int64)
        self._grid = grid

    def _log_ratios(self, chans, order):
        """ln(w_forward / w_backward) per compiled channel (``order``: the
        channels in table order), or (None, [irreversible rules]).

        Concrete changes of slots: one slot a -> a' (kind 0); two slots s1,
        s2 of one site (kind 1) or of neighbouring sites (kind 2),
        (a, b) -> (a', b'), made by the directed entries (a, b, a', b')
        initiated from s1 and (b, a, b', a') initiated from s2 (an entry
        with a == b carries half the rule's rate, so that both slots may
        initiate it).
        """
        W = {}
        for kind, a, b, a2, b2, rate in chans:
            key = (0, a, a2) if kind == 0 else (kind, a, b, a2, b2)
            W[key] = W.get(key, 0.0) + rate

        def total(kind, a, b, a2, b2):
            if kind == 0:
                return W.get((0, a, a2), 0.0)
            return W.get((kind, a, b, a2, b2), 0.0) + W.get((kind, b, a, b2, a2), 0.0)

        lnr, bad = [], []
        names = ("0",) + self.species
        for kind, a, b, a2, b2 in order:
            wf, wb = total(kind, a, b, a2, b2), total(kind, a2, b2, a, b)
            if wb <= 0.0:
                if kind == 0:
                    bad.append(f"{names[a]} -> {names[a2]}")
                elif kind == 1:
                    bad.append(f"{names[a]} + {names[b]} -> {names[a2]} + {names[b2]}")
                else:
                    bad.append(f"{names[a]},{names[b]} -> {names[a2]},{names[b2]}")
                continue
            lnr.append(math.log(wf / wb))
        if bad:
            return None, sorted(set(bad))
        return np.ascontiguousarray(lnr, dtype=np.float64), []

    # -- states -----------------------------------------------------------
    @property
    def n_sites(self) -> int:
        return self.lattice.n_sites

    def check_state(self, state) -> np.ndarray:
        """Validate a configuration and return it as slot labels (uint8, N K).

        Accepted forms: labels of shape (N,) (or the lattice's ``shape``,
        indexed ``[x, y, ...]``) with 0 = empty and 1 + k = ``species[k]``,
        or species names / ``"0"`` as strings; counts of shape (N, S) (or
        ``shape + (S,)``) with row sums <= capacity.
        """
        N, S, K = self.n_sites, len(self.species), self.capacity
        arr = np.asarray(state)
        lshape = tuple(self.lattice.shape) if self.lattice.shape else None
        if arr.dtype.kind in "US":
            table = {"0": 0, "": 0, **{s: 1 + k for k, s in enumerate(self.species)}}
            bad = sorted({str(x) for x in np.unique(arr)} - set(table))
            if bad:
                raise ValueError(f"initial state names unknown species {bad}; species are "
                                 f"{list(self.species)} (0 for empty)")
            arr = np.vectorize(table.__getitem__, otypes=[np.int64])(arr)
        if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
            ok = (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
                  and np.all(arr == np.round(arr)))
            if not ok:
                raise ValueError(f"state must hold integer labels or counts, got dtype "
                                 f"{arr.dtype}")
        arr = arr.astype(np.int64)
        counts = None
        if arr.shape == (N,) or (lshape and len(lshape) > 1 and arr.shape == lshape):
            lab = arr.reshape(-1, order="F") if arr.ndim > 1 else arr
            if lab.size and (lab.min() < 0 or lab.max() > S):
                raise ValueError(f"state labels must lie in [0, {S}] (0 = empty, "
                                 f"1..{S} = {list(self.species)}), got values in "
                                 f"[{lab.min()}, {lab.max()}]")
            slots = np.zeros((N, K), dtype=np.uint8)
            slots[:, 0] = lab
            return np.ascontiguousarray(slots.reshape(-1))
        if arr.shape == (N, S) or (lshape and arr.shape == lshape + (S,)):
            counts = arr.reshape(N, S, order="F") if arr.ndim > 2 else arr
            if counts.size and counts.min() < 0:
                raise ValueError("state counts must be non-negative")
            tot = counts.sum(axis=1)
            if tot.size and tot.max() > K:
                i = int(np.argmax(tot))
                raise ValueError(f"state puts {int(tot[i])} particles on site {i} but capacity "
                                 f"is {K}")
            slots = np.zeros((N, K), dtype=np.uint8)
            for i in np.nonzero(tot)[0]:
                slots[i, :tot[i]] = np.repeat(np.arange(1, S + 1), counts[i])
            return np.ascontiguousarray(slots.reshape(-1))
        want = f"({N},)" + (f" or {lshape}" if lshape and len(lshape) > 1 else "")
        raise ValueError(f"state has shape {arr.shape}; expected labels of shape {want} or "
                         f"counts of shape ({N}, {S})")

    def _public(self, slots):
        """Slot labels -> labels (N,) for K = 1, counts (N, S) otherwise."""
        if self.capacity == 1:
            return slots.astype(np.int8 if len(self.species) < 127 else np.int16)
        s = slots.reshape(self.n_sites, self.capacity)
        return np.stack([(s == a).sum(axis=1) for a in range(1, len(self.species) + 1)],
                        axis=1).astype(np.int32)

    @property
    def state(self):
        """The configuration at the end of the last run (None before any run)."""
        return None if self._labels is None else self._public(self._labels)

    def random_state(self, densities, rng=None):
        """Each slot independently holds species ``s`` with probability
        ``densities[s]`` (a mapping; the rest stay vacant)."""
        if not isinstance(densities, Mapping):
            raise ValueError("densities must be a mapping {species: probability}")
        p = np.zeros(len(self.species) + 1)
        for k, v in densities.items():
            if k not in self.species:
                raise ValueError(f"densities names unknown species {k!r}; species are "
                                 f"{list(self.species)}")
            v = float(v)
            if not 0 <= v <= 1:
                raise ValueError(f"density of {k!r} must lie in [0, 1], got {v}")
            p[1 + self.species.index(k)] = v
        if p.sum() > 1 + 1e-12:
            raise ValueError(f"densities add up to {p.sum():.6g} > 1")
        p[0] = max(0.0, 1.0 - p[1:].sum())
        gen, _ = _random.make_generator(rng)
        slots = gen.choice(len(p), size=self.n_sites * self.capacity, p=p / p.sum())
        return self._public(slots.astype(np.uint8))

    def full_state(self, species=None):
        """Every slot holds ``species`` (default: the first)."""
        a = self._species_label(species)
        return self._public(np.full(self.n_sites * self.capacity, a, dtype=np.uint8))

    def seed_state(self, species=None, site=None):
        """One particle of ``species`` at ``site`` (default: the centre site), the rest empty."""
        a = self._species_label(species)
        site = self.centre_site() if site is None else int(site)
        if not 0 <= site < self.n_sites:
            raise ValueError(f"site must lie in [0, {self.n_sites}), got {site}")
        slots = np.zeros(self.n_sites * self.capacity, dtype=np.uint8)
        slots[site * self.capacity] = a
        return self._public(slots)

    def centre_site(self) -> int:
        lat = self.lattice
        if lat.shape:
            idx, stride = 0, 1
            for L in lat.shape:
                idx += (L // 2) * stride
                stride *= L
            return int(idx)
        return self.n_sites // 2

    def _species_label(self, species):
        if species is None:
            return 1
        if species not in self.species:
            raise ValueError(f"unknown species {species!r}; species are {list(self.species)}")
        return 1 + self.species.index(species)

    # -- engine buffers -----------------------------------------------------
    def _buffers(self, slots):
        n = len(slots)
        members = np.empty((self._L, n), dtype=np.int32)
        pos = np.empty(n, dtype=np.int32)
        count = np.zeros(self._L, dtype=np.int64)
        _kernel().build_classes(slots, members, pos, count)
        return members, pos, count

    def _initial_slots(self, initial):
        if initial is None:
            if self.initial is None:
                raise ValueError(f"{self.name}: give an initial state (initial=...) or set "
                                 "system.initial; see random_state/full_state/seed_state")
            return self.initial.copy()
        return self.check_state(initial)

    def _densities(self, count):
        """count (..., L) -> per-site densities (..., S) (particles per site)."""
        return np.asarray(count)[..., 1:] / self.n_sites

    def describe(self) -> dict:
        return {"model": self.name, "species": list(self.species),
                "rules": [str(r) for r in self.rules], "rates": [r.rate for r in self.rules],
                **({"entropy": True} if self.entropy else {}),
                "capacity": self.capacity, "diffusion": dict(self.diffusion),
                "lattice": self.lattice.describe(), "n_sites": self.n_sites, **self.params}

    # -- running ------------------------------------------------------------
    def run(self, t_max, rng=None, record_every=None, *, times=None, initial=None,
            progress=False, stop=None, snapshots=False) -> Results:
        """One trajectory from ``initial`` (default ``self.initial``) to time ``t_max``.

        Records at times 0, record_every, 2 record_every, ... <= t_max (default
        t_max / 100), or at the increasing ``times``. Series: ``t``,
        ``density`` (particles per site, all species), ``density_<species>``,
        with ``snapshots=True`` the configuration ``snapshot`` at each
        recording time, and for a System with ``entropy=True`` the entropy
        produced since t = 0 per site, ``entropy``. The run ends early in an absorbing state (the series
        then end at the first recording time after absorption, which shows
        the absorbing configuration; ``meta["absorbed"]``,
        ``meta["absorption_time"]``) or when ``stop(system, t)`` returns True
        at a recording time (``system.state`` is the current configuration).
        ``progress=True`` shows a tqdm bar in model time.
        """
        t_max = self._rate(t_max, "t_max")
        rec = _record_times(t_max, record_every, times)
        if stop is not None and not callable(stop):
            raise TypeError("stop must be callable or None")
        gen, seed = _random.make_generator(rng)
        rng_state = _random.kernel_state(gen)
        slots = self._initial_slots(initial)
        members, pos, count = self._buffers(slots)
        kern = _kernel()
        clock = np.array([0.0, 0.0, 0.0, 1.0, 0.0])
        lnr = self._lnr if self.entropy else np.zeros(0)
        counters = np.zeros(3, dtype=np.int64)
        rows, snaps, ent = [], [], []
        absorbed, stopped = False, False
        chunk = _Chunker()
        bar = _bar(progress, t_max, self.name)
        started = time.perf_counter()
        self._labels = slots
        for t_rec in rec:
            while not absorbed and clock[0] < t_rec:
                t0 = time.perf_counter()
                n = chunk.size()
                status = kern.advance(slots, members, pos, count, self.capacity, self._zmax,
                                      self._indptr, self._indices, self._par, self._ptr,
                                      self._cum, self._prod, rng_state, clock, counters,
                                      float(t_rec), n, self._grid, lnr)
                chunk.done(n, time.perf_counter() - t0, status == _STATUS_PROPOSALS)
                if bar is not None:
                    bar.update(float(clock[0]) - bar.n)
                if status == _STATUS_ABSORBED:
                    absorbed = True
            rows.append((t_rec, count.copy()))
            ent.append(clock[4])
            if snapshots:
                snaps.append(self._public(slots))
            if absorbed:
                break
            if stop is not None and stop(self, t_rec):
                stopped = True
                break
        if bar is not None:
            bar.close()
        t = np.array([r[0] for r in rows])
        dens = self._densities(np.array([r[1] for r in rows]))
        series = {"t": t, "density": dens.sum(axis=1)}
        for k, s in enumerate(self.species):
            series[f"density_{s}"] = dens[:, k]
        if snapshots:
            series["snapshot"] = np.array(snaps)
        if self.entropy:
            series["entropy"] = np.array(ent) / self.n_sites
        meta = {**self.describe(), "t_max": t_max, "t_final": float(t[-1]) if len(t) else 0.0,
                "absorbed": absorbed, "absorption_time": float(clock[1]) if absorbed else None,
                "stopped_early": stopped, "events": int(counters[0]),
                "proposals": int(counters[1]), "seed": seed,
                "rng_state": [int(x) for x in rng_state],
                "seconds": time.perf_counter() - started, "versions": versions()}
        return Results(series, meta)

    def ensemble(self, runs, times, rng=None, *, initial=None, site_weights=None,
                 progress=False, batch=64) -> Ensemble:
        """``runs`` independent trajectories.

        Each is recorded at the increasing ``times`` (from t = 0), stops in
        its absorbing state (absorption time recorded) and is independent of
        the others. Runs come in batches of ``batch``, each with its own
        stream spawned from ``rng`` (the results do not depend on timing).
        ``initial``: one state for every run (default ``self.initial``), or a
        callable ``initial(generator) -> state`` drawing a fresh initial state
        for each run (averages over initial conditions as well, e.g. for
        random mixtures; each run then costs O(N) set-up).
        ``site_weights`` (N,): also record the sum of the weights of the
        sites' particles (e.g. squared distances, for spreading).
        With ``entropy=True`` (System), ``Ensemble.entropy`` (runs, T) is the
        entropy each run produced up to each time, per site.
        """
        runs = _positive_int(runs, "runs")
        batch = _positive_int(batch, "batch")
        times = np.ascontiguousarray(times, dtype=np.float64).reshape(-1)
        if times.size == 0 or not np.all(np.isfinite(times)) or times[0] < 0 or \
                np.any(np.diff(times) < 0):
            raise ValueError("times must be a non-empty increasing sequence of finite times "
                             ">= 0")
        fresh = callable(initial)
        if fresh:
            batch = 1
            draw = initial
            initial = None
        slots = None if fresh else self._initial_slots(initial)
        w = np.zeros(0)
        if site_weights is not None:
            w = np.ascontiguousarray(site_weights, dtype=np.float64)
            if w.shape != (self.n_sites,) or not np.all(np.isfinite(w)):
                raise ValueError(f"site_weights must be {self.n_sites} finite numbers")
        if not fresh:
            members, pos, count = self._buffers(slots)
        n_slots = self.n_sites * self.capacity
        dirty = np.zeros(n_slots, dtype=np.uint8)
        journal = np.zeros(n_slots, dtype=np.int32)
        n_batches = -(-runs // batch)
        seeds, seed = _streams(rng, n_batches)
        out = np.zeros((runs, len(times), self._L), dtype=np.int64)
        out_w = np.zeros((runs, len(times) if len(w) else 0))
        absorbed = np.zeros(runs)
        out_s = np.zeros((runs, len(times))) if self.entropy else None
        lnr = self._lnr if self.entropy else np.zeros(0)
        counters = np.zeros(3, dtype=np.int64)
        bar = _bar(progress, runs, self.name, unit="run")
        kern = _kernel()
        started = time.perf_counter()
        for b in range(n_batches):
            r0, r1 = b * batch, min(runs, (b + 1) * batch)
            gen = np.random.Generator(np.random.PCG64(seeds[b]))
            if fresh:
                slots = self.check_state(draw(gen))
                members, pos, count = self._buffers(slots)
            st = _random.kernel_state(gen)
            kern.ensemble(slots, members, pos, count, self.capacity, self._zmax, self._indptr,
                          self._indices, self._par, self._ptr, self._cum, self._prod, st,
                          w, dirty, journal, times, r1 - r0, out[r0:r1],
                          out_w[r0:r1] if len(w) else np.zeros((r1 - r0, 0)),
                          absorbed[r0:r1], counters, self._grid, lnr,
                          out_s[r0:r1] if out_s is not None else None)
            if bar is not None:
                bar.update(r1 - r0)
        if bar is not None:
            bar.close()
        meta = {**self.describe(), "runs": runs, "batch": batch, "seed": seed,
                "events": int(counters[0]), "proposals": int(counters[1]),
                "seconds": time.perf_counter() - started, "versions": versions()}
        return Ensemble(times, out[..., 1:], absorbed, out_w if len(w) else None,
                        self.species, self.n_sites, meta,
                        entropy=None if out_s is None else out_s / self.n_sites)

    def __repr__(self):
        return (f"<reaction.System {self.name}: species={list(self.species)} "
                f"{len(self.rules)} rules capacity={self.capacity} on {self.lattice!r}>")


def _streams(rng, n):
    """n independent SeedSequences from rng, and plain-data seed information."""
    ss = _random._seed_sequence(rng)
    if ss is None:
        _, info = _random.make_generator(rng)
        return _random.spawn(rng, n), info
    return ss.spawn(n), _random.seed_info(ss)


def _positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _record_times(t_max, record_every, times):
    if times is not None:
        if record_every is not None:
            raise ValueError("give record_every or times, not both")
        rec = np.asarray(times, dtype=np.float64).reshape(-1)
        if rec.size == 0 or not np.all(np.isfinite(rec)) or rec[0] < 0 or \
                np.any(np.diff(rec) < 0) or rec[-1] > t_max:
            raise ValueError(f"times must be increasing, finite and within [0, t_max={t_max}]")
        return rec
    if record_every is None:
        record_every = t_max / 100 if t_max > 0 else 1.0
    if isinstance(record_every, bool) or not isinstance(record_every, numbers.Real) or \
            not record_every > 0 or not math.isfinite(record_every):
        raise ValueError(f"record_every must be a positive number, got {record_every!r}")
    n = int(math.floor(t_max / record_every * (1 + 1e-12)))
    return np.arange(n + 1) * float(record_every)


class _Chunker:
    """Proposals per kernel call: ~0.2 s each, so progress bars and stop
    conditions stay responsive. A paused kernel keeps its pending state, so
    chunking never changes the random stream or a single bit of the results."""

    target = 0.2

    def __init__(self):
        self.per = None

    def size(self):
        return 100_000 if self.per is None else max(1000, int(self.target / self.per))

    def done(self, n, seconds, full):
        if full:  # only calls that used all their proposals measure the speed
            self.per = max(seconds / n, 1e-10)


def _bar(progress, total, desc, unit="time"):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)


# ------------------------------------------------------------ ensembles


class Ensemble:
    """Independent runs of one System recorded at common times.

    Attributes
    ----------
    times : (T,) recording times
    counts : (runs, T, S) particles of each species at each time
    absorption_time : (runs,) time of absorption, +inf if not absorbed by times[-1]
    weights : (runs, T) or None, sums of the particles' site weights
    entropy : (runs, T) or None, entropy produced per site up to each time
        (Systems with ``entropy=True``)
    """

    def __init__(self, times, counts, absorption_time, weights, species, n_sites, meta,
                 entropy=None):
        self.times = np.asarray(times)
        self.counts = counts
        self.absorption_time = absorption_time
        self.weights = weights
        self.entropy = entropy
        self.species = tuple(species)
        self.n_sites = n_sites
        self.meta = meta

    @property
    def runs(self) -> int:
        return self.counts.shape[0]

    def _select(self, species):
        if species is None:
            return self.counts.sum(axis=2)
        if species not in self.species:
            raise ValueError(f"unknown species {species!r}; species are {list(self.species)}")
        return self.counts[:, :, self.species.index(species)]

    def particles(self, species=None):
        """(runs, T) particle numbers (all species, or one)."""
        return self._select(species)

    def density(self, species=None):
        """Mean density per site at each time and its standard error (runs are independent)."""
        x = self._select(species) / self.n_sites
        return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(self.runs)

    @property
    def absorbed(self):
        """(runs, T) bool: absorbed at or before each recording time."""
        return self.absorption_time[:, None] <= self.times[None, :]

    def survival(self):
        """Survival probability P(t) (not yet absorbed) and its binomial standard error."""
        p = 1.0 - self.absorbed.mean(axis=0)
        return p, np.sqrt(p * (1 - p) / self.runs)

    def quasi_stationary(self, t_min, species=None) -> Estimate:
        """Mean density over runs still alive, averaged over recording times >= t_min.

        The error treats runs as independent units (each run's time average
        over the window, weighted by its alive points).
        """
        sel = self.times >= t_min
        if not np.any(sel):
            raise ValueError(f"no recording time >= t_min = {t_min}")
        x = self._select(species)[:, sel] / self.n_sites
        alive = ~self.absorbed[:, sel]
        n = alive.sum(axis=1)
        s = (x * alive).sum(axis=1)
        use = n > 0
        if use.sum() < 2:
            raise ValueError("fewer than 2 runs survive into the window")
        value = s[use].sum() / n[use].sum()
        # ratio estimator over runs: var of (s - value n) / mean(n)
        resid = s[use] - value * n[use]
        err = np.sqrt(resid.var(ddof=1) / use.sum()) / n[use].mean()
        return Estimate(float(value), float(err))

    def absorption_statistics(self) -> dict:
        """Mean and standard error of the absorption time, with the fraction absorbed.

        Only meaningful when every run was absorbed (``fraction == 1``);
        otherwise the mean is over absorbed runs (censored) and flagged.
        """
        a = self.absorption_time
        done = np.isfinite(a)
        out = {"fraction": float(done.mean()), "censored": bool(not done.all())}
        if done.sum() >= 2:
            out["mean"] = float(a[done].mean())
            out["error"] = float(a[done].std(ddof=1) / np.sqrt(done.sum()))
            out["median"] = float(np.median(a[done]))
        return out

    def __repr__(self):
        return f"<Ensemble {self.meta.get('model', '?')}: {self.runs} runs x {len(self.times)} times>"


# ------------------------------------------------------------------ presets


def _z(lattice):
    z = lattice.common_degree
    if z == 0:
        z = 2.0 * lattice.n_bonds / max(lattice.n_sites, 1)
    if z == 0:
        raise ValueError("the lattice has no bonds")
    return float(z)


def contact_process(lattice, rate, *, recovery=1.0, diffusion=None, initial="full"):
    """Contact process (Harris 1974): infected sites ``A`` on a lattice.

    An infected site recovers at rate ``recovery`` (A -> 0) and infects each
    empty neighbour at rate ``rate / z`` (per bond "A,0 -> A,A"; z = the
    coordination number, the mean degree on irregular graphs), i.e. an empty
    site with n infected neighbours is infected at rate rate * n / z. In the
    directed-percolation class; on the chain the critical rate is
    lambda_c = 3.29785 (Dickman & Jensen 1991), in mean field 1.

    ``initial``: "full" (all infected), "seed" (one infected site at the
    centre), or an explicit state.
    """
    lam = System._rate(rate, "rate")
    z = _z(lattice)
    rules = [("A -> 0", System._rate(recovery, "recovery")), ("A,0 -> A,A", lam / z)]
    sysm = System(lattice, ["A"], rules, diffusion=diffusion, name="contact_process",
                  params={"rate": lam, "recovery": recovery, "z": z})
    _set_initial(sysm, initial, {"full": lambda: sysm.full_state("A"),
                                 "seed": lambda: sysm.seed_state("A")})
    return sysm


def birth_death(lattice, birth, *, death=1.0, capacity=4, hopping=1.0, initial="full"):
    """Branching with a carrying capacity: A -> 2A, A -> 0, hopping (DP class).

    Each site holds up to ``capacity`` K particles. A particle gives birth on
    its own site at rate birth * (1 - n/K) (rule "A -> 2A" at birth/K per
    free slot), dies at rate ``death``, and hops to a neighbour j at rate
    hopping * (1 - n_j/K) (rule "A,0 -> 0,A" at hopping/K per free slot).
    Mean field: d rho/dt = birth rho (1 - rho/K) - death rho.
    """
    K = capacity
    b = System._rate(birth, "birth")
    rules = [("A -> 2A", b / K), ("A -> 0", System._rate(death, "death"))]
    hop = System._rate(hopping, "hopping")
    if hop > 0:
        rules.append(("A,0 -> 0,A", hop / K))
    sysm = System(lattice, ["A"], rules, capacity=K, name="birth_death",
                  params={"birth": b, "death": death, "hopping": hop})
    _set_initial(sysm, initial, {"full": lambda: sysm.full_state("A"),
                                 "seed": lambda: sysm.seed_state("A")})
    return sysm


def annihilation(lattice, *, diffusion=1.0, rate=None, coalescence=False, initial="full",
                 rng=None):
    """Single-species annihilation A + A -> 0 (or coalescence A + A -> A).

    Particles hop to each empty neighbour at rate D = ``diffusion`` and a
    neighbouring pair reacts at rate ``rate`` per bond ("A,A -> 0,0", or
    "A,A -> A,0" with a random survivor). The default rate = 2D is the
    diffusion-limited case: identical to "a particle hopping onto an occupied
    site annihilates (coalesces) with it". Then on the chain, from any
    uncorrelated initial state, rho(t) -> 1/sqrt(8 pi D t) (annihilation) and
    1/sqrt(2 pi D t) (coalescence); exact finite-time densities in
    ``kadanoff.theory.reaction.annihilation_chain_density``.
    ``initial``: "full", a density in (0, 1] (random, needs ``rng``), or a state.
    """
    D = System._rate(diffusion, "diffusion")
    k = 2 * D if rate is None else System._rate(rate, "rate")
    rule = "A,A -> A,0" if coalescence else "A,A -> 0,0"
    sysm = System(lattice, ["A"], [(rule, k)], diffusion=D,
                  name="coalescence" if coalescence else "annihilation",
                  params={"rate": k, "D": D})
    _set_initial(sysm, initial, {"full": lambda: sysm.full_state("A")},
                 density=lambda p: sysm.random_state({"A": p}, rng))
    return sysm


def two_species_annihilation(lattice, *, diffusion=1.0, rate=None, density=1.0, rng=None,
                             initial=None, balanced=False):
    """A + B -> 0 with hopping: segregation into A and B domains (Toussaint-Wilczek).

    A and B hop to empty neighbours at rate D and an A-B neighbour pair
    annihilates at rate ``rate`` per bond (default 2D: a particle hopping
    onto the other species annihilates). Default initial state: each site
    holds A or B with probability ``density`` / 2 each (random, from ``rng``);
    ``balanced=True`` places exactly round(density N / 2) of each instead,
    so that a finite system has no global excess of one species (which would
    survive and bend the decay at late times).
    From such a state rho_A(t) ~ t^(-d/4) for d < 4 (t^(-1/4) on the chain).
    """
    D = System._rate(diffusion, "diffusion")
    k = 2 * D if rate is None else System._rate(rate, "rate")
    sysm = System(lattice, ["A", "B"], [("A,B -> 0,0", k)], diffusion=D,
                  name="two_species_annihilation", params={"rate": k, "D": D})
    if initial is None and balanced:
        gen, _ = _random.make_generator(rng)
        n = int(round(density * lattice.n_sites / 2))
        lab = np.zeros(lattice.n_sites, dtype=np.int64)
        lab[:n], lab[n:2 * n] = 1, 2
        sysm.initial = sysm.check_state(gen.permutation(lab))
    elif initial is None:
        sysm.initial = sysm.check_state(sysm.random_state({"A": density / 2, "B": density / 2},
                                                          rng))
    else:
        sysm.initial = sysm.check_state(initial)
    return sysm


def lotka_volterra(lattice, *, predation=1.0, birth=1.0, death=1.0, diffusion=0.0,
                   site_restriction=True, capacity=8, initial=None, density=0.3, rng=None):
    """Stochastic lattice Lotka-Volterra model: predators ``A``, prey ``B``
    (rates as in Mobilia, Georgiev & Tauber 2007).

    With site restriction (each site empty, A or B)::

      A -> 0 @ death;  B,0 -> B,B @ birth/z (prey reproduce into an empty
      neighbour);  A,B -> A,A @ predation/z (a predator eats a neighbouring
      prey and its offspring takes the site); hopping at rate ``diffusion``.

    Per individual the rates are death, birth x (empty neighbour fraction),
    predation x (prey neighbour fraction). A predator extinction threshold
    appears at small predation rate; above it, activity fronts and damped,
    noise-sustained oscillations.

    Without site restriction (``site_restriction=False``): sites hold up to
    ``capacity`` K particles and reactions are on-site::

      A -> 0 @ death;  B -> 2B at birth/K per free slot (per prey:
      birth (1 - n/K));  A + B -> 2A @ predation (per pair on the site);
      hopping to neighbours at diffusion/K per free slot.

    Default initial state: each slot A or B with probability ``density`` / 2.
    """
    mu = System._rate(death, "death")
    sigma = System._rate(birth, "birth")
    lam = System._rate(predation, "predation")
    D = System._rate(diffusion, "diffusion")
    if site_restriction:
        z = _z(lattice)
        rules = [("A -> 0", mu), ("B,0 -> B,B", sigma / z), ("A,B -> A,A", lam / z)]
        K = 1
        diff = D if D > 0 else None
    else:
        K = capacity
        rules = [("A -> 0", mu), ("B -> 2B", sigma / K), ("A + B -> 2A", lam)]
        if D > 0:
            rules += [("A,0 -> 0,A", D / K), ("B,0 -> 0,B", D / K)]
        diff = None
    sysm = System(lattice, ["A", "B"], rules, diffusion=diff, capacity=K,
                  name="lotka_volterra",
                  params={"predation": lam, "birth": sigma, "death": mu, "diffusion": D,
                          "site_restriction": bool(site_restriction)})
    sysm.initial = sysm.check_state(initial if initial is not None else
                                    sysm.random_state({"A": density / 2, "B": density / 2},
                                                      rng))
    return sysm


def rock_paper_scissors(lattice, *, selection=1.0, reproduction=1.0, exchange=0.0,
                        mobility=None, initial=None, density=None, rng=None):
    """May-Leonard rock-paper-scissors with mobility (Reichenbach, Mobilia & Frey 2007).

    Species A, B, C; A eats B, B eats C, C eats A. Each individual acts at the
    per-individual rates below on a uniformly chosen neighbour (z neighbours)::

      selection     A,B -> A,0   (and B,C -> B,0; C,A -> C,0)   sigma / z per bond
      reproduction  A,0 -> A,A   (same for B, C)                mu / z per bond
      exchange      X,Y -> Y,X   for all X != Y incl. empty     2 eps / z per bond

    (exchange may be initiated from either end, so an individual swaps with
    each neighbour at rate 2 eps / z: a lone individual diffuses with
    D = eps / 2 on the square lattice). ``mobility`` M = 2 eps / N sets
    eps = M N / 2, RMF's definition assuming their per-individual rate
    convention; they report coexistence with spirals below M_c ~ 4.5e-4 and
    the loss of two species above it (large lattices). Default initial state:
    each site A, B, C or empty with probability 1/4 (``density`` = total
    occupied fraction).
    """
    z = _z(lattice)
    sigma = System._rate(selection, "selection")
    mu = System._rate(reproduction, "reproduction")
    if mobility is not None:
        if exchange:
            raise ValueError("give exchange or mobility, not both")
        eps = System._rate(mobility, "mobility") * lattice.n_sites / 2
    else:
        eps = System._rate(exchange, "exchange")
    rules = []
    for x, y in (("A", "B"), ("B", "C"), ("C", "A")):
        rules.append((f"{x},{y} -> {x},0", sigma / z))
    for x in "ABC":
        rules.append((f"{x},0 -> {x},{x}", mu / z))
    if eps > 0:
        for x, y in (("A", "B"), ("B", "C"), ("C", "A"), ("A", "0"), ("B", "0"), ("C", "0")):
            rules.append((f"{x},{y} -> {y},{x}", 2 * eps / z))
    sysm = System(lattice, ["A", "B", "C"], rules, name="rock_paper_scissors",
                  params={"selection": sigma, "reproduction": mu, "exchange": eps,
                          "mobility": 2 * eps / lattice.n_sites})
    if initial is None:
        p = 0.75 if density is None else float(density)
        initial = sysm.random_state({s: p / 3 for s in "ABC"}, rng)
    sysm.initial = sysm.check_state(initial)
    return sysm


def _set_initial(sysm, initial, named, density=None):
    if isinstance(initial, str):
        if initial not in named:
            raise ValueError(f"initial must be one of {sorted(named)} or a state, got "
                             f"{initial!r}")
        sysm.initial = sysm.check_state(named[initial]())
    elif density is not None and isinstance(initial, numbers.Real) and \
            not isinstance(initial, bool):
        if not 0 < initial <= 1:
            raise ValueError(f"initial density must lie in (0, 1], got {initial}")
        sysm.initial = sysm.check_state(density(float(initial)))
    elif initial is not None:
        sysm.initial = sysm.check_state(initial)


# ------------------------------------------------------------ measurements


def correlation(system, state, a=None, b=None):
    """Connected two-point function along the lattice axes.

    C_ab(r) = <n_a(x) n_b(x + r e)> - rho_a rho_b, averaged over sites x and
    the axis directions e, for r = 0 .. L/2 (periodic Bravais lattices with a
    ``shape``; site index x + Lx y + ...). ``a``/``b``: species names (default:
    all particles). Returns (r, C).
    """
    lat = system.lattice
    if not lat.shape or not lat.periodic:
        raise ValueError("correlation needs a periodic lattice with a shape (chain, square, "
                         "cubic, ...)")
    state = np.asarray(system._public(system.check_state(state)))
    if system.capacity == 1:
        occ = {s: (state == 1 + k).astype(float) for k, s in enumerate(system.species)}
    else:
        occ = {s: state[:, k].astype(float) for k, s in enumerate(system.species)}
    tot = sum(occ.values())

    def field(name):
        if name is None:
            return tot
        if name not in occ:
            raise ValueError(f"unknown species {name!r}; species are {list(system.species)}")
        return occ[name]

    shape = tuple(lat.shape)
    fa = field(a).reshape(shape, order="F")
    fb = field(b).reshape(shape, order="F")
    n = fa.size
    ca = np.fft.ifftn(np.conj(np.fft.fftn(fa)) * np.fft.fftn(fb)).real / n
    ca -= fa.mean() * fb.mean()
    rmax = min(shape) // 2
    r = np.arange(rmax + 1)
    acc = np.zeros(rmax + 1)
    for axis in range(len(shape)):
        idx = [0] * len(shape)
        line = []
        for k in r:
            idx[axis] = k
            line.append(ca[tuple(idx)])
        acc += np.array(line)
    return r, acc / len(shape)


_COLOURS = ["#ffffff", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _cmap(n_labels, colors=None):
    from matplotlib.colors import ListedColormap
    cols = list(colors) if colors is not None else _COLOURS
    if len(cols) < n_labels:
        import matplotlib
        base = matplotlib.colormaps["tab10"]
        cols = cols + [base(i % 10) for i in range(n_labels - len(cols))]
    return ListedColormap(cols[:n_labels])


def _image(system, state):
    lat = system.lattice
    st = np.asarray(state)
    if system.capacity > 1:    # show the majority species (0 if empty)
        st = np.where(st.sum(axis=1) > 0, 1 + st.argmax(axis=1), 0)
    if lat.shape and len(lat.shape) == 2 and lat.name == "square":
        return st.reshape(lat.shape, order="F").T
    return None


def plot_snapshot(system, state=None, ax=None, colors=None, title=None):
    """Draw a configuration: an image on square lattices, coloured points
    elsewhere (vacancies white). matplotlib is imported here only."""
    from .. import plot as kplot
    if state is None:
        state = system.state if system._labels is not None else system._public(system.initial)
    if ax is None:
        _, ax = kplot.figure()
    n_lab = len(system.species) + 1
    cmap = _cmap(n_lab, colors)
    img = _image(system, state)
    if img is not None:
        ax.imshow(img, origin="lower", cmap=cmap, vmin=-0.5, vmax=n_lab - 0.5,
                  interpolation="nearest")
    else:
        xy = system.lattice.coords
        st = np.asarray(state)
        if system.capacity > 1:
            st = np.where(st.sum(axis=1) > 0, 1 + st.argmax(axis=1), 0)
        if xy is None:
            raise ValueError("this lattice has no coordinates to draw")
        if xy.shape[1] == 1:
            xy = np.column_stack([xy[:, 0], np.zeros(len(xy))])
        ax.scatter(xy[:, 0], xy[:, 1], c=st, cmap=cmap, vmin=-0.5, vmax=n_lab - 0.5, s=8,
                   marker="s")
        ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="small")
    return ax


def plot_spacetime(system, res, ax=None, colors=None):
    """Space-time diagram (time upwards) of a chain from ``run(..., snapshots=True)``."""
    from .. import plot as kplot
    if "snapshot" not in res:
        raise ValueError("run with snapshots=True to draw a space-time diagram")
    if ax is None:
        _, ax = kplot.figure()
    snaps = np.asarray(res["snapshot"])
    if system.capacity > 1:
        snaps = np.where(snaps.sum(axis=2) > 0, 1 + snaps.argmax(axis=2), 0)
    n_lab = len(system.species) + 1
    t = res["t"]
    ax.imshow(snaps, origin="lower", aspect="auto", cmap=_cmap(n_lab, colors),
              vmin=-0.5, vmax=n_lab - 0.5, interpolation="nearest",
              extent=(-0.5, snaps.shape[1] - 0.5, t[0], t[-1]))
    ax.set_xlabel("site")
    ax.set_ylabel("t")
    return ax


def save_movie(system, res, path, fps=10):
    """Write the snapshots of ``run(..., snapshots=True)`` as an animated GIF
    (matplotlib's Pillow writer)."""
    from matplotlib import animation

    from .. import plot as kplot
    if "snapshot" not in res:
        raise ValueError("run with snapshots=True to make a movie")
    fig, ax = kplot.figure()
    snaps = res["snapshot"]
    t = res["t"]

    def draw(k):
        ax.clear()
        plot_snapshot(system, snaps[k], ax=ax, title=f"t = {t[k]:.4g}")
        return []

    anim = animation.FuncAnimation(fig, draw, frames=len(snaps), blit=False)
    anim.save(path, writer=animation.PillowWriter(fps=fps))
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path
