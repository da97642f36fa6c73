"""The spec engine's primitives, on a toy entity."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from include.mockgen.engine import (Cat, Choice, Derived, EntitySpec, MapChoice, Money, Override, digits, exact_shares,
                                    stable_uniform, weighted_codes)
from include.mockgen.schema import Column, Entity

D = date(2026, 11, 20)
TOY = Entity("toy", ("id",), None, "toy", tuple(Column(c, "string", c) for c in ("kind", "size", "label", "flag")))


def toy_spec(**extra) -> EntitySpec:
    return EntitySpec(TOY, 100, [
        # declared out of order on purpose: the engine sorts by dependencies
        MapChoice("size", source="kind", mapping={"a": ("s", "m"), "b": ("l",)},
                  overrides=(Override("flag", "on", value="xl"),)),
        Choice("kind", values=("a", "b"), weights=(3, 1)),
        Choice("flag", values=("on", "off"), weights=(0.1, 0.9)),
        Derived("label", ("kind",), fn=lambda ctx, rng: Cat(("A", "B"), ctx["kind"].codes),
                only_for=("kind", ("a",))),
    ])


def test_weights_are_normalised_like_random_choices():
    codes = weighted_codes(np.random.default_rng(1), (0.6, 0.6, 0.1, 0.1, 0.1, 0.1), 200_000)
    shares = np.bincount(codes) / len(codes)
    assert shares == pytest.approx([0.375, 0.375, 0.0625, 0.0625, 0.0625, 0.0625], abs=0.005)   # w / 1.6


def test_exact_shares_gives_int_counts_and_the_remainder_to_one_index():
    out = exact_shares(np.random.default_rng(1), (0.1, 0.3, 0.35, 0.1, 0.15), 999, remainder_to=0)
    assert np.bincount(out).tolist() == [99 + 999 - (99 + 299 + 349 + 99 + 149), 299, 349, 99, 149]


def test_rules_run_in_dependency_order_with_mapping_override_and_only_for():
    spec = toy_spec()
    rows = spec.materialise(spec.evaluate(1, D, 0, 5000)).to_pylist()
    for r in rows:
        if r["flag"] == "on":
            assert r["size"] == "xl"
        else:
            assert r["size"] in {"a": ("s", "m"), "b": ("l",)}[r["kind"]]
        assert r["label"] == ("A" if r["kind"] == "a" else None)
    assert sum(r["kind"] == "a" for r in rows) / len(rows) == pytest.approx(0.75, abs=0.03)


def test_a_spec_without_a_rule_for_a_contract_column_is_refused():
    with pytest.raises(ValueError, match="no rule for"):
        EntitySpec(TOY, 10, [Choice("kind", values=("a",))])


def test_a_dependency_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        EntitySpec(TOY, 10, [Derived(c, (("flag",) if c == "kind" else ("kind",)), fn=None)
                             for c in ("kind", "size", "label", "flag")])


def test_digits_are_zero_padded_strings_with_a_prefix():
    assert digits(np.array([0, 42, 9_999_999_999]), 10).to_pylist() == ["0000000000", "0000000042", "9999999999"]
    assert digits(np.array([7, 123456]), 6, prefix=b"T2026").to_pylist() == ["T2026000007", "T2026123456"]
    with pytest.raises(ValueError):
        digits(np.array([7]), 4)


def test_money_is_an_exact_two_place_decimal_with_nulls():
    arr = Money(np.array([12345, -5, 0]), valid=np.array([True, True, False])).to_arrow()
    assert arr.to_pylist() == [Decimal("123.45"), Decimal("-0.05"), None]


def test_stable_uniform_depends_only_on_seed_and_key():
    keys = np.arange(10_000)
    u = stable_uniform(1, keys, "x")
    assert np.array_equal(u, stable_uniform(1, keys, "x")) and ((u > 0) & (u < 1)).all()
    assert np.array_equal(u[5000:], stable_uniform(1, keys[5000:], "x"))
    assert not np.array_equal(u, stable_uniform(2, keys, "x"))
    assert abs(u.mean() - 0.5) < 0.01
