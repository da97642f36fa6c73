"""The generation engine: a declarative list of column rules, evaluated vectorised on one part.

An entity spec is a list of rules built from a few primitives:

* ``Choice``     weighted choice from a value list (``random.choices`` semantics: weights normalised);
* ``MapChoice``  uniform choice among the options a mapping gives for another column's value
                 (title from gender, marital status from title ...);
* ``Derived``    any vectorised function of earlier columns (dates, e-mails, lookups ...);

and two modifiers every rule accepts: ``overrides`` (a fixed value, or a value per source value,
where a condition column has a given value: the seed's minors' special cases) and ``only_for``
(null unless a column has one of the given values: Corporate/Merchant customers have no personal
attributes). Rules name their dependencies; the engine evaluates them in dependency order.

Determinism: every rule of every part draws from its own ``np.random.Generator`` (PCG64) seeded
from ``(seed, logical date, entity, part index, rule name)`` via ``np.random.SeedSequence``, so a
part's output does not depend on how many parts run, nor on the other rules' draws.

Values in the context are numpy arrays (ints, ``datetime64[D]`` dates, ``datetime64[s]``
timestamps), ``Cat`` (codes into a value list; ``None`` in the list is null), ``Money`` (int64
cents, landed as decimal(14, 2)) or pyarrow string arrays. ``materialise`` turns them into a
pyarrow table with exactly the schema's columns.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from include.mockgen.schema import Entity

DECIMAL = pa.decimal128(14, 2)


@dataclass
class Cat:
    """A categorical column: ``values[codes]``; a ``None`` value is null."""
    values: tuple
    codes: np.ndarray

    def to_arrow(self) -> pa.Array:
        return pa.array(self.values, pa.string()).take(pa.array(self.codes))

    def mask(self, allowed: Sequence) -> np.ndarray:
        hits = [i for i, v in enumerate(self.values) if v in allowed]
        return np.isin(self.codes, hits)

    def decoded(self) -> np.ndarray:
        return np.asarray(self.values, dtype=object)[self.codes]


@dataclass
class Money:
    """Amounts in cents (int64); ``valid`` False is null."""
    cents: np.ndarray
    valid: np.ndarray | None = None

    def to_arrow(self) -> pa.Array:
        pairs = np.empty(2 * len(self.cents), np.int64)
        pairs[0::2] = self.cents
        pairs[1::2] = self.cents >> 63          # sign extension: decimal128 is 16-byte two's complement
        validity = None if self.valid is None else pa.array(self.valid).buffers()[1]
        nulls = 0 if self.valid is None else int((~self.valid).sum())
        return pa.Array.from_buffers(DECIMAL, len(self.cents), [validity, pa.py_buffer(pairs)], null_count=nulls)


def to_arrow(value: Any) -> pa.Array:
    if isinstance(value, (Cat, Money)):
        return value.to_arrow()
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "M":
        return pa.array(value, from_pandas=True)      # NaT -> null
    return pa.array(value)


ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "timestamp": pa.timestamp("s"), "int": pa.int32(),
               "decimal": DECIMAL}


def to_contract_types(table: pa.Table, entity: Entity) -> pa.Table:
    """``table`` (e.g. landed rows read back as strings) cast to the arrow types the generator
    writes, so a re-landed row is encoded exactly like a generated one (no quoted numbers/dates)."""
    return pa.Table.from_arrays([table[c.name].cast(ARROW_TYPES[c.type]) for c in entity.columns],
                                names=entity.column_names)


# ---------------------------------------------------------------------------------------- RNG

def entity_key(name: str) -> int:
    return zlib.crc32(name.encode())


def seed_sequence(seed: int, logical_date: date, entity: str, part: int, rule: str = "") -> np.random.SeedSequence:
    return np.random.SeedSequence([seed & 0xFFFFFFFF, logical_date.toordinal(), entity_key(entity), part,
                                   entity_key(rule)])


def rng_for(seed: int, logical_date: date, entity: str, part: int, rule: str = "") -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, logical_date, entity, part, rule)))


def stable_uniform(seed: int, keys: np.ndarray, salt: str = "") -> np.ndarray:
    """A uniform (0, 1) per key that depends only on (seed, salt, key): splitmix64 of the key.

    Used where a value must be the same on every day and in every part (a customer's activity)."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15 + entity_key(salt)) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def digits(values: np.ndarray, width: int, prefix: bytes = b"") -> pa.Array:
    """Non-negative integers (< 10**width) as zero-padded decimal strings of ``width`` digits after
    ``prefix``, written straight into an arrow buffer: ids are the widest columns and this is ~10x
    faster than a cast plus padding."""
    if not 5 <= width <= 14:
        raise ValueError("digits: width must be 5..14")
    n = len(values)
    w = len(prefix) + width
    row = np.empty((n, w), dtype=np.uint8)
    if prefix:
        row[:, :len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    # two int32 halves: int32 division is several times cheaper than int64
    hi, lo = np.divmod(np.asarray(values, dtype=np.int64), 100_000)
    for first, part, k in ((w - 5, lo, 5), (len(prefix), hi, width - 5)):
        x = part.astype(np.int32)
        for i in range(k - 1, -1, -1):
            x, d = np.divmod(x, 10)
            row[:, first + i] = d
    row[:, len(prefix):] += 48
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(row.ravel())])


def weighted_rows(rng: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    """``n`` row indices drawn with probability proportional to the weights whose running sum is
    ``cumulative``. Sorted uniforms make the binary searches cache-friendly (5x faster on millions
    of rows); a random permutation then restores independent draws."""
    u = np.sort(rng.random(n) * cumulative[-1])
    rows = np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)
    return rows[rng.permutation(n)]


# ----------------------------------------------------------------------------------- sampling

def weighted_codes(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """Indices drawn with ``random.choices`` semantics (weights need not sum to one)."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1).astype(np.int32)


def exact_shares(rng: np.random.Generator, shares: Sequence[float], n: int, remainder_to: int) -> np.ndarray:
    """Exactly ``int(n * share)`` of each index, the remainder to ``remainder_to``, shuffled (the
    seed's bucket lists followed by ``random.shuffle``)."""
    counts = [int(n * s) for s in shares]
    counts[remainder_to] += n - sum(counts)
    out = np.repeat(np.arange(len(shares), dtype=np.int32), counts)
    rng.shuffle(out)
    return out


def group_choice(rng: np.random.Generator, groups: np.ndarray, options: Sequence[Sequence[int]]) -> np.ndarray:
    """For each row, a uniform pick among ``options[groups[row]]`` (indices); -1 where a group has none."""
    width = max(1, max(len(o) for o in options))
    table = np.full((len(options), width), -1, dtype=np.int32)
    counts = np.zeros(len(options), dtype=np.int64)
    for g, opts in enumerate(options):
        table[g, :len(opts)] = opts
        counts[g] = len(opts)
    pick = (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    return table[groups, np.minimum(pick, width - 1)]


def group_weighted_choice(rng: np.random.Generator, groups: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each row, an index drawn with the weights of its group's row in ``weights`` (groups x values).

    One binary search for all groups: each group's normalised running sums are shifted by the group
    number, and a row searches ``group + u``."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    k = w.shape[1]
    shifted = (cum + np.arange(len(w))[:, None]).ravel()
    groups = np.asarray(groups, dtype=np.int64)
    pos = np.searchsorted(shifted, groups + rng.random(len(groups)), side="right") - groups * k
    return np.clip(pos, 0, k - 1).astype(np.int32)


def weight_matrix(groups: Sequence, values: Sequence, table: Mapping[Any, Mapping[Any, float]]) -> np.ndarray:
    """A (groups x values) weight matrix from ``{group: {value: weight}}`` (missing = 0)."""
    return np.array([[table.get(g, {}).get(v, 0.0) for v in values] for g in groups], dtype=np.float64)


def uniform_dates(rng: np.random.Generator, low: np.ndarray | date, high: np.ndarray | date, n: int) -> np.ndarray:
    """Dates uniform in [low, high] (both included)."""
    lo = np.asarray(np.datetime64(low, "D") if isinstance(low, date) else low, dtype="datetime64[D]")
    hi = np.asarray(np.datetime64(high, "D") if isinstance(high, date) else high, dtype="datetime64[D]")
    span = (hi - lo).astype(np.int64) + 1
    return lo + (rng.random(n) * span).astype(np.int64).astype("timedelta64[D]")


def uniform_seconds(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, n: int) -> np.ndarray:
    """Timestamps (datetime64[s]) uniform in [low, high]."""
    lo = np.asarray(low, dtype="datetime64[s]")
    span = (np.asarray(high, dtype="datetime64[s]") - lo).astype(np.int64) + 1
    return lo + (rng.random(n) * np.maximum(span, 1)).astype(np.int64).astype("timedelta64[s]")


# -------------------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Override:
    """Where ``when`` column has value ``equals``: ``value`` (or ``by_source[source value]``)."""
    when: str
    equals: Any
    value: Any = None
    by_source: Mapping[Any, Any] | None = None
    source: str | None = None      # column whose value keys ``by_source`` (default: the MapChoice source)


@dataclass
class Rule:
    name: str
    deps: tuple[str, ...] = ()
    overrides: tuple[Override, ...] = ()
    only_for: tuple[str, tuple] | None = None

    def all_deps(self) -> tuple[str, ...]:
        extra = tuple(o.when for o in self.overrides) + tuple(o.source for o in self.overrides if o.source)
        if self.only_for:
            extra += (self.only_for[0],)
        return tuple(dict.fromkeys(self.deps + extra))

    def generate(self, ctx: "Context", rng: np.random.Generator) -> Any:  # pragma: no cover
        raise NotImplementedError


@dataclass
class Choice(Rule):
    values: tuple = ()
    weights: tuple | None = None
    present: float = 1.0        # share of rows with a value (the rest null)

    def generate(self, ctx, rng):
        n = ctx.n
        if self.weights is None:
            codes = rng.integers(0, len(self.values), n, dtype=np.int32)
        else:
            codes = weighted_codes(rng, self.weights, n)
        values = tuple(self.values)
        if self.present < 1.0:
            values += (None,)
            codes[rng.random(n) >= self.present] = len(values) - 1
        return Cat(values, codes)


@dataclass
class MapChoice(Rule):
    source: str = ""
    mapping: Mapping[Any, Sequence] = field(default_factory=dict)

    def __post_init__(self):
        self.deps = tuple(dict.fromkeys(self.deps + (self.source,)))

    def generate(self, ctx, rng):
        src: Cat = ctx[self.source]
        values: list = []
        index: dict = {}
        for opts in self.mapping.values():
            for v in opts:
                if v not in index:
                    index[v] = len(values)
                    values.append(v)
        if None not in index:
            index[None] = len(values)
            values.append(None)
        options = [[index[v] for v in self.mapping.get(s, (None,))] for s in src.values]
        return Cat(tuple(values), group_choice(rng, src.codes, options))


@dataclass
class Derived(Rule):
    fn: Callable[["Context", np.random.Generator], Any] = None

    def generate(self, ctx, rng):
        return self.fn(ctx, rng)


def _apply_modifiers(rule: Rule, ctx: "Context", value: Any) -> Any:
    if not isinstance(value, Cat) and (rule.overrides or rule.only_for):
        if rule.only_for and isinstance(value, np.ndarray) and value.dtype.kind == "M":
            value = value.copy()
            value[~ctx[rule.only_for[0]].mask(rule.only_for[1])] = np.datetime64("NaT")
            return value
        raise TypeError(f"rule {rule.name}: overrides/only_for need a categorical value")
    if not isinstance(value, Cat):
        return value
    values, codes = list(value.values), value.codes.copy()

    def code_of(v):
        if v not in values:
            values.append(v)
        return values.index(v)

    for o in rule.overrides:
        where = ctx[o.when].mask((o.equals,))
        if o.by_source is None:
            codes[where] = code_of(o.value)
        else:
            src: Cat = ctx[o.source or rule.source]
            for s_value, new in o.by_source.items():
                codes[where & src.mask((s_value,))] = code_of(new)
    if rule.only_for:
        codes[~ctx[rule.only_for[0]].mask(rule.only_for[1])] = code_of(None)
    return Cat(tuple(values), codes)


# -------------------------------------------------------------------------------------- specs

@dataclass
class Context:
    """The columns computed so far for one part, plus where the part sits."""
    seed: int
    logical_date: date
    entity: str
    part: int
    offset: int                    # row number of the part's first row within the entity
    n: int
    inputs: dict = field(default_factory=dict)   # arrays the caller supplies (e.g. the owning customers)
    columns: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        if name in self.columns:
            return self.columns[name]
        return self.inputs[name]

    @property
    def day_start(self) -> np.datetime64:
        return np.datetime64(self.logical_date, "s")

    @property
    def day_end(self) -> np.datetime64:
        return self.day_start + np.timedelta64(86399, "s")


@dataclass
class EntitySpec:
    entity: Entity
    part_size: int
    rules: list[Rule]

    def __post_init__(self):
        self.order = _topological(self.rules)
        missing = [c for c in self.entity.column_names if c not in {r.name for r in self.rules}]
        if missing:
            raise ValueError(f"{self.entity.name}: no rule for {missing}")

    def evaluate(self, seed: int, logical_date: date, part: int, n: int, offset: int | None = None,
                 inputs: dict | None = None, stream: str | None = None) -> Context:
        """All rules evaluated for part ``part`` of ``n`` rows (``stream``: another RNG stream name
        than the entity's, for extra rows such as the deliberately bad ones)."""
        ctx = Context(seed, logical_date, self.entity.name, part,
                      part * self.part_size if offset is None else offset, n, inputs or {})
        for rule in self.order:
            rng = rng_for(seed, logical_date, stream or self.entity.name, part, rule.name)
            ctx.columns[rule.name] = _apply_modifiers(rule, ctx, rule.generate(ctx, rng))
        return ctx

    def materialise(self, ctx: Context) -> pa.Table:
        """The schema's columns, in contract order, as a pyarrow table."""
        names = self.entity.column_names
        return pa.Table.from_arrays([to_arrow(ctx.columns[c]) for c in names], names=names)

    def part_sizes(self, rows: int) -> list[int]:
        full, rest = divmod(rows, self.part_size)
        return [self.part_size] * full + ([rest] if rest else [])


def _topological(rules: list[Rule]) -> list[Rule]:
    by_name = {r.name: r for r in rules}
    done: dict[str, Rule] = {}
    visiting: set[str] = set()

    def visit(rule: Rule):
        if rule.name in done:
            return
        if rule.name in visiting:
            raise ValueError(f"dependency cycle at {rule.name}")
        visiting.add(rule.name)
        for dep in rule.all_deps():
            if dep in by_name:
                visit(by_name[dep])
        visiting.discard(rule.name)
        done[rule.name] = rule

    for r in rules:
        visit(r)
    return list(done.values())
