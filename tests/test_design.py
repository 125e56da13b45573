"""Territory design: balance, contiguity, locks, continuity, honesty about the impossible."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory.districting import (
    band_note,
    design_territories,
    evaluate_assignment,
    is_band_note,
    neighbour_lists,
)
from territory.exceptions import InputError
from territory.models import Customer, Rep
from territory.params import Config, TerritoryParams
from territory.travel import haversine_km, project_km
from territory.workload import customer_workload

CLASSES = {"A": (4, 60.0), "B": (2, 45.0), "C": (1, 30.0)}


def make_instance(
    n: int, k: int, seed: int, country: str = "nl"
) -> tuple[list[Customer], list[Rep]]:
    """Customers clustered around towns, some countryside, a coastline and (nl) an island."""
    rng = np.random.default_rng(seed)
    if country == "nl":
        box, island = (51.3, 53.3, 3.7, 7.0), (53.42, 5.35)
    else:
        box, island = (49.6, 51.4, 2.7, 6.2), None

    def land(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        coast = 3.6 + np.maximum(0.0, la - 51.9) * 0.9 if country == "nl" else 2.6 + 0 * la
        return (lo > coast) & (la > box[0]) & (la < box[1]) & (lo < box[3])

    towns = []
    while len(towns) < 12:
        la, lo = rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])
        if land(np.array([la]), np.array([lo]))[0]:
            towns.append((la, lo))
    towns_a = np.array(towns)
    n_island = n // 40 if island else 0
    lat: list[float] = []
    lon: list[float] = []
    while len(lat) < n - n_island:
        m = n
        t = rng.integers(0, 12, m)
        rural = rng.random(m) < 0.2
        la = np.where(rural, rng.uniform(box[0], box[1], m), towns_a[t, 0] + rng.normal(0, 0.05, m))
        lo = np.where(rural, rng.uniform(box[2], box[3], m), towns_a[t, 1] + rng.normal(0, 0.08, m))
        ok = land(la, lo)
        lat += la[ok].tolist()
        lon += lo[ok].tolist()
    lat, lon = lat[: n - n_island], lon[: n - n_island]
    if island:
        lat += (island[0] + rng.normal(0, 0.015, n_island)).tolist()
        lon += (island[1] + rng.normal(0, 0.08, n_island)).tolist()
    cls = rng.choice(["A", "B", "C"], size=n, p=[0.15, 0.35, 0.5])
    customers = [
        Customer(
            id=f"c{i}",
            lat=lat[i],
            lon=lon[i],
            customer_class=str(cls[i]),
            visits=CLASSES[str(cls[i])][0],
            visit_minutes=CLASSES[str(cls[i])][1],
            potential=float(rng.integers(1000, 50000)),
            row=i + 2,
        )
        for i in range(n)
    ]
    homes = towns_a[rng.choice(12, size=k, replace=k > 12)]
    reps = [
        Rep(
            id=f"r{j}",
            lat=float(homes[j, 0] + rng.normal(0, 0.02)),
            lon=float(homes[j, 1]),
            row=j + 2,
        )
        for j in range(k)
    ]
    return customers, reps


def loads_and_targets(customers, reps, assignment, values=None):
    """Independent recomputation of each territory's load and target from plain inputs."""
    cfg = Config()
    wl = customer_workload(customers, cfg, reps).workload_min if values is None else values
    a = np.asarray(assignment)
    load = np.array([wl[a == r].sum() for r in range(len(reps))])
    cap = np.array([r.capacity for r in reps])
    return load, wl.sum() * cap / cap.sum()


def is_connected_piece(nbrs, members: set[int]) -> bool:
    """BFS inside one territory over the neighbourhood graph."""
    if not members:
        return True
    start = next(iter(members))
    seen, todo = {start}, [start]
    while todo:
        u = todo.pop()
        for v in nbrs[u]:
            if v in members and v not in seen:
                seen.add(v)
                todo.append(v)
    return seen == members


@pytest.fixture(scope="module")
def nl_600():
    """A Dutch-like instance with an island: the acceptance case at the small end."""
    customers, reps = make_instance(600, 8, seed=1, country="nl")
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    return customers, reps, wl, cfg, design_territories(customers, reps, wl, cfg)


@pytest.mark.parametrize(
    "n,k,seed,country", [(600, 8, 1, "nl"), (900, 12, 2, "be"), (400, 6, 3, "nl")]
)
def test_acceptance_balanced_and_connected(n, k, seed, country):
    customers, reps = make_instance(n, k, seed, country)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    assert len(d.assignment) == n and set(d.assignment) <= set(range(k))
    load, target = loads_and_targets(customers, reps, d.assignment)
    assert np.all(np.abs(load / target - 1) <= 0.05 + 1e-9), load / target
    nbrs = neighbour_lists(project_km([c.lat for c in customers], [c.lon for c in customers]))
    a = np.array(d.assignment)
    for r in range(k):
        assert is_connected_piece(nbrs, set(np.flatnonzero(a == r).tolist())), r
    assert d.kpis.connected_share == 1.0
    assert d.kpis.territories_connected == k
    assert d.kpis.max_workload_deviation == pytest.approx(np.max(np.abs(load / target - 1)))
    assert d.kpis.infeasible_notes == ()
    assert d.kpis.lower_bound <= d.kpis.objective + 1e-9
    assert 1.0 - 1e-9 <= d.kpis.objective_ratio < 1.5
    json.dumps(d.kpis.to_dict())  # plain JSON-able


def test_design_beats_nearest_home_on_balance_and_kmeans_on_distance(nl_600):
    customers, reps, wl, cfg, d = nl_600
    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    near = np.argmin(np.column_stack([haversine_km(lat, lon, r.lat, r.lon) for r in reps]), axis=1)
    ev = evaluate_assignment(customers, reps, wl, near, cfg)
    assert ev.max_workload_deviation > d.kpis.max_workload_deviation
    # nearest home is the unconstrained optimum: below the balanced bound, never above it
    assert ev.objective <= d.kpis.lower_bound + 1e-9
    assert ev.lower_bound == pytest.approx(d.kpis.lower_bound, rel=1e-6)


def test_per_territory_arrays_match_assignment(nl_600):
    customers, reps, _wl, _cfg, d = nl_600
    a = np.array(d.assignment)
    load, target = loads_and_targets(customers, reps, a)
    assert d.kpis.workload_min == pytest.approx(load, rel=1e-6)
    assert d.kpis.target_min == pytest.approx(target, rel=1e-6)
    assert list(d.kpis.customers) == np.bincount(a, minlength=len(reps)).tolist()
    assert d.rep_ids == tuple(r.id for r in reps)
    assert d.centres == tuple((r.lat, r.lon) for r in reps)


def test_same_seed_same_result_byte_identical():
    customers, reps = make_instance(300, 5, seed=4)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d1 = design_territories(customers, reps, wl, cfg)
    d2 = design_territories(customers, reps, wl, cfg)
    assert d1.assignment == d2.assignment
    assert json.dumps(d1.kpis.to_dict()) == json.dumps(d2.kpis.to_dict())


def test_free_centres_named_and_balanced():
    customers, _ = make_instance(500, 6, seed=5)
    cfg = Config()
    wl = customer_workload(customers, cfg, None)
    d = design_territories(customers, None, wl, cfg, k=6)
    assert d.rep_ids == ("T1", "T2", "T3", "T4", "T5", "T6")
    assert len(d.centres) == 6
    assert d.kpis.max_workload_deviation <= 0.05 + 1e-9
    assert d.kpis.connected_share == 1.0
    # each centre is a customer location of its own territory (a medoid)
    pos = {(c.lat, c.lon): i for i, c in enumerate(customers)}
    for r, centre in enumerate(d.centres):
        assert d.assignment[pos[centre]] == r
    d2 = design_territories(customers, None, wl, cfg, k=6)
    assert d.assignment == d2.assignment and d.centres == d2.centres
    assert d.kpis.centres == d.centres and list(d.kpis.to_dict())[-1] == "centres"
    # evaluate without reps judges the same split the same way (centres = medoids)
    ev = evaluate_assignment(customers, None, wl, d.assignment, cfg)
    assert ev.max_workload_deviation == pytest.approx(d.kpis.max_workload_deviation)
    assert ev.connected_share == 1.0
    assert ev.objective <= d.kpis.objective * 1.05


def test_locked_customers_stay_and_balance_holds():
    customers, reps = make_instance(500, 6, seed=6)
    rng = np.random.default_rng(0)
    lock_idx = rng.choice(len(customers), size=25, replace=False)
    lock_to = {int(i): reps[int(rng.integers(len(reps)))].id for i in lock_idx}
    customers = [replace(c, locked_rep=lock_to.get(i, "")) for i, c in enumerate(customers)]
    cfg = Config(territory=TerritoryParams(contiguous=False))
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    ids = [r.id for r in reps]
    for i, rid in lock_to.items():
        assert ids[d.assignment[i]] == rid
    assert d.kpis.max_workload_deviation <= 0.05 + 1e-9


def test_unknown_locked_rep_names_row_and_value():
    customers, reps = make_instance(50, 3, seed=7)
    customers[4] = replace(customers[4], locked_rep="nobody")
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    with pytest.raises(InputError, match=r"row 6.*'nobody'"):
        design_territories(customers, reps, wl, cfg)


def test_impossible_locks_give_notes_not_a_crash():
    """Half of all customers locked to one rep: that territory cannot reach its band."""
    customers, reps = make_instance(300, 4, seed=8)
    customers = [
        replace(c, locked_rep=reps[0].id if i % 2 == 0 else "") for i, c in enumerate(customers)
    ]
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    assert all(d.assignment[i] == 0 for i in range(0, 300, 2))
    notes = " ".join(d.kpis.infeasible_notes)
    assert "Locked customers of 'r0'" in notes
    assert "Territory 'r0' ends at +" in notes
    # best achievable: r0 holds exactly its locks, nothing more
    load, _target = loads_and_targets(customers, reps, d.assignment)
    locked_load = sum(wl.workload_min[i] for i in range(0, 300, 2))
    assert locked_load - 1e-6 <= load[0] <= locked_load * 1.05  # sums in another order


def test_heavy_customer_is_reported():
    customers, reps = make_instance(60, 3, seed=9)
    customers[0] = replace(customers[0], visits=40, visit_minutes=300.0)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    assert any("Customer 'c0' alone" in s for s in d.kpis.infeasible_notes)


def test_capacity_sets_targets():
    customers, reps = make_instance(400, 4, seed=10)
    reps[0] = replace(reps[0], capacity=0.5)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    load, target = loads_and_targets(customers, reps, d.assignment)
    assert target[0] == pytest.approx(target[1] / 2)
    assert np.all(np.abs(load / target - 1) <= 0.05 + 1e-9)


def test_balance_on_customers_and_potential_too():
    customers, reps = make_instance(600, 5, seed=11)
    cfg = Config(
        territory=TerritoryParams(balance=("workload", "customers", "potential"), tolerance=0.08)
    )
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    a = np.array(d.assignment)
    counts = np.bincount(a, minlength=5)
    assert np.all(np.abs(counts / (600 / 5) - 1) <= 0.08 + 1e-9)
    pot = np.array([c.potential for c in customers])
    pl, pt = loads_and_targets(customers, reps, a, values=pot)
    assert np.all(np.abs(pl / pt - 1) <= 0.08 + 1e-9)
    assert d.kpis.max_customers_deviation == pytest.approx(np.max(np.abs(counts / 120 - 1)))
    assert d.kpis.max_workload_deviation <= 0.08 + 1e-9


def test_max_moved_limits_changes_from_current_rep(nl_600):
    customers, reps, wl, cfg, _d = nl_600
    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    near = np.argmin(np.column_stack([haversine_km(lat, lon, r.lat, r.lon) for r in reps]), axis=1)
    cur = [replace(c, current_rep=reps[near[i]].id) for i, c in enumerate(customers)]
    free = design_territories(cur, reps, wl, cfg)
    capped = design_territories(cur, reps, wl, cfg, max_moved=0.5)
    assert capped.kpis.moved <= 300
    assert capped.kpis.moved < free.kpis.moved or free.kpis.moved <= 300
    kept = design_territories(
        cur, reps, wl, Config(territory=TerritoryParams(keep_current_weight=3.0))
    )
    assert kept.kpis.moved < free.kpis.moved
    assert kept.kpis.max_workload_deviation <= 0.05 + 1e-9
    # the bound is on distance alone: continuity penalties and caps do not change it
    assert kept.kpis.lower_bound == pytest.approx(free.kpis.lower_bound, rel=1e-3)
    assert capped.kpis.lower_bound == pytest.approx(free.kpis.lower_bound, rel=1e-3)


def test_previous_is_kept_when_still_balanced(nl_600):
    customers, reps, wl, cfg, d = nl_600
    again = design_territories(customers, reps, wl, cfg, previous=d.assignment)
    changed = sum(a != b for a, b in zip(again.assignment, d.assignment, strict=True))
    assert changed <= len(customers) * 0.02
    # routed workload 20 % heavier in one territory's area: rebalanced with few moves
    heavier = replace(
        wl,
        minutes_per_visit=np.where(
            np.array(d.assignment) == 0, wl.minutes_per_visit * 1.2, wl.minutes_per_visit
        ),
    )
    re = design_territories(customers, reps, heavier, cfg, previous=d.assignment)
    assert re.kpis.max_workload_deviation <= 0.05 + 1e-9
    changed = sum(a != b for a, b in zip(re.assignment, d.assignment, strict=True))
    assert 0 < changed <= len(customers) * 0.2


def test_graph_keeps_island_reachable_and_drops_water_edges():
    rng = np.random.default_rng(0)
    main = rng.uniform(0, 50, size=(400, 2))
    island = rng.normal(0, 1.0, size=(20, 2)) + np.array([25.0, 90.0])
    xy = np.vstack([main, island])
    nbrs = neighbour_lists(xy)
    assert is_connected_piece(nbrs, set(range(len(xy))))
    crossing = [(u, v) for u in range(400) for v in nbrs[u] if v >= 400]
    assert 1 <= len(crossing) <= 2  # the shortest crossing only, not the hull fan


def test_graph_has_no_bridge_along_a_coast_past_another_town():
    """Two towns at the ends of a long hull edge with a third town close by that edge (Ostend
    and Den Helder, The Hague between them): the towns are joined through the third, never
    directly over the sea; towns side by side stay joined."""
    rng = np.random.default_rng(3)
    west = rng.normal(0, 1.0, size=(40, 2))
    east = rng.normal(0, 1.0, size=(40, 2)) + np.array([100.0, 0.0])
    middle = rng.normal(0, 1.0, size=(40, 2)) + np.array([50.0, 20.0])  # sees both at ~136 deg
    xy = np.vstack([west, east, middle])
    nbrs = neighbour_lists(xy)
    assert is_connected_piece(nbrs, set(range(len(xy))))
    assert not [(u, v) for u in range(40) for v in nbrs[u] if 40 <= v < 80]
    assert [(u, v) for u in range(40) for v in nbrs[u] if v >= 80]
    assert [(u, v) for u in range(40, 80) for v in nbrs[u] if v >= 80]


def test_graph_joins_neighbouring_towns_past_a_lone_customer():
    """A lone customer between two towns (Namur and Brussels, 20 km from each) does not make
    them one cluster: the town beside it (Charleroi) keeps its own edges to the first town.
    Measured on 100,000 customers around Dutch and Belgian towns: Namur's two reps had only
    that lone customer as a way out of their town and ended 5-7 % under their band."""
    rng = np.random.default_rng(0)
    namur = rng.normal(0, 1.0, size=(200, 2))
    brussels = rng.normal(0, 1.0, size=(200, 2)) + np.array([30.0, 30.0])
    charleroi = rng.normal(0, 1.0, size=(200, 2)) + np.array([-35.0, 0.0])
    xy = np.vstack([namur, brussels, charleroi, [[15.0, 15.0]]])
    nbrs = neighbour_lists(xy)
    assert is_connected_piece(nbrs, set(range(len(xy))))
    assert [(u, v) for u in range(200) for v in nbrs[u] if 400 <= v < 600]


def test_graph_with_coincident_and_collinear_points():
    xy = np.array([[0.0, 0.0]] * 5 + [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    nbrs = neighbour_lists(xy)
    assert is_connected_piece(nbrs, set(range(8)))
    assert neighbour_lists(np.zeros((1, 2))) == [[]]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(40, 120),
    k=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    n_locked=st.integers(0, 40),
)
def test_properties_partition_balance_locks_determinism(n, k, seed, n_locked):
    rng = np.random.default_rng(seed)
    lat = 52.0 + rng.uniform(0, 0.6, n)
    lon = 5.0 + rng.uniform(0, 0.9, n)
    customers = [
        Customer(
            id=f"c{i}",
            lat=float(lat[i]),
            lon=float(lon[i]),
            visits=int(rng.integers(1, 3)),
            visit_minutes=30.0,
            row=i + 2,
        )
        for i in range(n)
    ]
    reps = [
        Rep(id=f"r{j}", lat=float(52.0 + rng.uniform(0, 0.6)), lon=float(5.0 + rng.uniform(0, 0.9)))
        for j in range(k)
    ]
    locks = {
        int(i): int(rng.integers(k)) for i in rng.choice(n, size=min(n_locked, n), replace=False)
    }
    customers = [
        replace(c, locked_rep=reps[locks[i]].id if i in locks else "")
        for i, c in enumerate(customers)
    ]
    cfg = Config(territory=TerritoryParams(tolerance=0.1, seed=seed % 7))
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    a = np.array(d.assignment)
    assert a.shape == (n,) and a.min() >= 0 and a.max() < k
    for i, r in locks.items():
        assert a[i] == r
    load, target = loads_and_targets(customers, reps, a)
    dev = np.abs(load / target - 1)
    if not d.kpis.infeasible_notes:
        assert np.all(dev <= 0.1 + 1e-9)
        assert d.kpis.connected_share == 1.0
    else:  # honest: every out-of-band territory is named
        for r in np.flatnonzero(dev > 0.1 + 1e-9):
            assert any(f"'{reps[r].id}'" in s for s in d.kpis.infeasible_notes)
    again = design_territories(customers, reps, wl, cfg)
    assert again.assignment == d.assignment


def test_evaluate_todays_split_reports_moves_and_pieces():
    """The `evaluate` use: judge the current_rep split, and a design against it."""
    customers, reps = make_instance(400, 4, seed=12)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    # today's split: by longitude bands, so one rep also holds a far-away enclave
    lon = np.array([c.lon for c in customers])
    today = np.digitize(lon, np.quantile(lon, [0.25, 0.5, 0.75]))
    far = int(np.argmax(lon))
    today[far] = 0
    ev = evaluate_assignment(customers, reps, wl, today, cfg)
    load, target = loads_and_targets(customers, reps, today)
    assert ev.max_workload_deviation == pytest.approx(np.max(np.abs(load / target - 1)))
    assert list(ev.customers) == np.bincount(today, minlength=4).tolist()
    assert ev.connected[0] is False and ev.pieces[0] >= 2
    assert ev.connected_share < 1.0
    assert ev.moved == 0  # no current_rep given
    cur = [replace(c, current_rep=reps[today[i]].id) for i, c in enumerate(customers)]
    d = design_territories(cur, reps, wl, cfg)
    changed = int(np.sum(np.array(d.assignment) != today))
    assert d.kpis.moved == changed
    assert sum(d.kpis.moved_in) == changed == sum(d.kpis.moved_out)


def test_flow_bound_equals_lp_bound(monkeypatch):
    """The min-cost-flow prices give the same bound as the LP duals: the bound is exact."""
    from territory import districting as design_module

    customers, reps = make_instance(500, 5, seed=13)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    a = design_territories(customers, reps, wl, cfg)
    monkeypatch.setattr(design_module, "_ALLOCATOR", "lp")
    b = design_territories(customers, reps, wl, cfg)
    assert a.kpis.lower_bound == pytest.approx(b.kpis.lower_bound, rel=2e-3)
    assert b.kpis.max_workload_deviation <= 0.05 + 1e-9


def test_bad_inputs_are_refused_clearly():
    customers, reps = make_instance(30, 3, seed=14)
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    with pytest.raises(InputError, match="k = 40 territories for 30 customers"):
        design_territories(customers, None, wl, cfg, k=40)
    nan_c = [*customers[:5], replace(customers[5], lat=float("nan")), *customers[6:]]
    with pytest.raises(InputError, match=r"row 7: customer 'c5' has no coordinates"):
        design_territories(nan_c, reps, wl, cfg)
    with pytest.raises(InputError, match="previous assignment"):
        design_territories(customers, reps, wl, cfg, previous=[0, 1])
    empty = design_territories([], reps, customer_workload([], cfg, reps), cfg)
    assert empty.assignment == () and empty.rep_ids == ("r0", "r1", "r2")
    assert empty.kpis.customers == (0, 0, 0) and empty.kpis.connected_share == 1.0
    assert empty.kpis.objective_ratio is None


def test_potential_per_territory_is_reported_even_when_not_balanced(nl_600):
    customers, reps, _wl, _cfg, d = nl_600
    a = np.array(d.assignment)
    pot = np.array([c.potential for c in customers])
    assert d.kpis.potential == pytest.approx([pot[a == r].sum() for r in range(len(reps))])


def test_customers_geocoded_to_town_centres_still_connected_and_balanced():
    """A third of the customers share a few town-centre points (gazetteer fallback)."""
    customers, reps = make_instance(600, 6, seed=15)
    rng = np.random.default_rng(15)
    towns = rng.choice(600, size=8, replace=False)
    snap = rng.random(600) < 0.33
    customers = [
        replace(c, lat=customers[towns[i % 8]].lat, lon=customers[towns[i % 8]].lon)
        if snap[i]
        else c
        for i, c in enumerate(customers)
    ]
    cfg = Config()
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    load, target = loads_and_targets(customers, reps, d.assignment)
    assert np.all(np.abs(load / target - 1) <= 0.05 + 1e-9)
    assert d.kpis.connected_share == 1.0


def test_a_rep_working_fewer_days_gets_a_proportionally_smaller_territory():
    """Targets follow working time in the period: days x hours x capacity, not capacity alone."""
    customers, reps = make_instance(400, 4, seed=21)
    reps[1] = replace(reps[1], days=("mon", "tue"))  # 2 of the period's 5 days
    reps[2] = replace(reps[2], days=("mon", "tue", "wed", "sat"))  # saturday is not worked
    config = Config()
    workload = customer_workload(customers, config, reps)
    d = design_territories(customers, reps, workload, config)
    load = np.bincount(d.assignment, weights=workload.workload_min, minlength=4)
    share = load / load.sum()
    expected = np.array([5, 2, 3, 5]) / 15
    tol = config.territory.tolerance
    assert np.all(np.abs(share / expected - 1) <= tol + 1e-9), share


def test_kpis_to_dict_writes_the_summary_keys_in_order():
    """summary.json and `evaluate --json` are written from to_dict: its keys are a contract."""
    customers, reps = make_instance(200, 3, seed=16)
    balance = ("potential", "workload", "customers")
    cfg = Config(territory=TerritoryParams(balance=balance, tolerance=0.1))
    wl = customer_workload(customers, cfg, reps)
    d = design_territories(customers, reps, wl, cfg)
    out = d.kpis.to_dict()
    per_territory = ["workload_min", "target_min", "deviation", "customers", "connected"]
    per_territory += ["pieces", "potential", "moved_in", "moved_out"]
    assert list(out) == [
        "max_workload_deviation",
        "max_potential_deviation",  # the balanced criteria in the configured order
        "max_customers_deviation",
        "tolerance",
        "within_tolerance",
        "connected_share",
        "territories_connected",
        "moved",
        "objective",
        *per_territory,
        "lower_bound",
        "objective_ratio",
        "lp_value",
        "lp_split_customers",
        "infeasible_notes",
    ]
    assert json.loads(json.dumps(out)) == out  # plain values: nothing lost on the way to JSON
    assert out["customers"] == list(d.kpis.customers) and d.kpis.balanced == balance
    ev = evaluate_assignment(customers, reps, wl, d.assignment, cfg)
    assert ev.lp_value is None and ev.centres is None
    assert list(ev.to_dict()) == [k for k in out if k not in ("lp_value", "lp_split_customers")]
    assert ev.customers == d.kpis.customers and ev.pieces == d.kpis.pieces
    workload_only = evaluate_assignment(customers, reps, wl, d.assignment, Config())
    assert workload_only.max_potential_deviation is None
    assert "max_potential_deviation" not in workload_only.to_dict()


def test_band_notes_are_recognised_by_criterion():
    """The rebalancing replaces the design's workload band notes after its pair moves: it finds
    them by `is_band_note`, which must match the sentence `band_note` writes, and only that."""
    note = band_note("R7", "workload", -0.068, 0.05)
    assert "'R7' ends at -6.8 % workload" in note and "+/-5 %" in note
    assert is_band_note(note, "workload")
    assert not is_band_note(band_note("R7", "customers", 0.09, 0.05), "workload")
    assert not is_band_note("2 territories are not one connected piece (R1, R2)", "workload")
