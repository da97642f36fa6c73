"""Campaign events: customers moving through the stages of the bank's credit-card cross-sell
campaigns (the seed's Campaign Funnel dashboard; its generator is not shown, so the rules are ours,
stated next to each rule).

* **Campaigns.** One campaign per calendar month, ``XSELL-CC-YYYY-MM``, offering a credit card. A
  campaign *reaches* customers during its month and its journeys stay open until the end of the
  following month; so on any day two campaigns are open.
* **Audience and reach.** Personal, adult, not deceased customers. A stable hash of (seed,
  campaign, customer) decides whether the campaign reaches the customer (REACH_SHARE of the
  audience) and on which day of the month: no state is needed for a reach, and a re-run of a day
  reaches the same customers.
* **Stages in order.** Customer Reached, Explored Product, Started to Apply, Engagement, Completed
  Application, KYC, Onboarded. A journey advances one stage at a time: on each day, a journey at
  stage k moves to k+1 when the customer *will ever* advance from k (a stable hash under the
  profile's probability ``ADVANCE[profile][k]``) and does so that day (probability ``SPEED[k]``);
  several stages can follow each other on one day. Where a journey stands is read from the events
  landed on the earlier days of the open campaigns (``campaign_state``), so whatever a customer's
  attributes become, every event's earlier stages landed before it.
* **How far a customer gets** depends on the customer: a generator *profile* from the attributes
  the generator knows (CIBIL, affluence, credit cards and their utilisation), in the order of the
  dbt archetype rules (dbt_project/models/marketplace/customer_archetypes.sql), which read the same
  attributes plus transaction behaviour. An application below the offered card's minimum CIBIL
  score is declined (it never reaches KYC).
* **Offer.** A card of the customer's affluence tier (``OFFERS``), fixed for the journey.
* **Channel** by stage (``CHANNEL_BY_STAGE``); timestamps inside the logical day, in stage order.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from include.mockgen import reference as ref
from include.mockgen.engine import (Cat, Derived, EntitySpec, digits, group_weighted_choice, rng_for, stable_uniform,
                                    weight_matrix)
from include.mockgen.products import CATALOGUE, PRODUCT_INDEX, PRODUCT_TYPE_CODE, PRODUCT_TYPES
from include.mockgen.schema import CAMPAIGN_EVENTS
from include.mockgen.transactions import activity

ENTITY = CAMPAIGN_EVENTS.name
STAGES = ("Customer Reached", "Explored Product", "Started to Apply", "Engagement", "Completed Application", "KYC",
          "Onboarded")
CHANNELS = ("Email", "SMS", "Mobile App", "Web", "Branch", "Call Centre")
REACH_SHARE = 0.6       # of the audience, over the campaign's month
APPLICATION, KYC = STAGES.index("Completed Application"), STAGES.index("KYC")

# Generator profiles, named after the archetypes they approximate (first match wins, as in dbt):
PROFILES = ("Recovering Credit Users", "Financially Stressed", "Prosperous and Content", "Deal Chasers",
            "Self Aware Avoiders", "Generic")
RECOVERING_BELOW, PROSPEROUS_FROM, STRESSED_UTILISATION, PROSPEROUS_UTILISATION = 700, 750, 0.7, 0.3
DEAL_ACTIVITY = 2.0     # transactions.activity: the top ~40 % of customers

# P(a journey at stage k ever moves to k+1), k = Reached .. KYC. Credit seekers (recovering,
# stressed) explore and start eagerly but complete less (and below the card's CIBIL minimum are
# declined); content customers rarely look but finish what they start; avoiders rarely look;
# card holders who use their cards (deal chasers) respond most.
ADVANCE = {
    "Deal Chasers":            (0.75, 0.65, 0.75, 0.60, 0.85, 0.90),
    "Financially Stressed":    (0.60, 0.65, 0.50, 0.40, 0.55, 0.50),
    "Generic":                 (0.45, 0.45, 0.60, 0.55, 0.75, 0.80),
    "Prosperous and Content":  (0.30, 0.35, 0.65, 0.75, 0.90, 0.95),
    "Recovering Credit Users": (0.65, 0.60, 0.55, 0.50, 0.60, 0.60),
    "Self Aware Avoiders":     (0.20, 0.25, 0.50, 0.60, 0.85, 0.90),
}
# P(a journey that will advance from stage k does so on a given day): exploring follows the
# contact quickly, KYC takes days.
SPEED = (0.70, 0.60, 0.70, 0.50, 0.35, 0.50)

CHANNEL_BY_STAGE = weight_matrix(STAGES, CHANNELS, {
    "Customer Reached": {"Email": 0.40, "SMS": 0.25, "Mobile App": 0.15, "Call Centre": 0.10, "Branch": 0.10},
    "Explored Product": {"Mobile App": 0.50, "Web": 0.40, "Branch": 0.10},
    "Started to Apply": {"Mobile App": 0.50, "Web": 0.35, "Branch": 0.15},
    "Engagement": {"Mobile App": 0.40, "Web": 0.25, "Call Centre": 0.20, "Email": 0.15},
    "Completed Application": {"Mobile App": 0.50, "Web": 0.35, "Branch": 0.15},
    "KYC": {"Mobile App": 0.60, "Branch": 0.40},
    "Onboarded": {"Mobile App": 0.55, "Web": 0.25, "Branch": 0.20},
})
# Cards offered per affluence level (reference.AFFLUENCE order: High, Low, Medium).
OFFERS = {"High": ("PRD0005", "PRD0002", "PRD0001"), "Low": ("PRD0006", "PRD0003"), "Medium": ("PRD0004", "PRD0003")}
_OFFER_COUNT = np.array([len(OFFERS[a]) for a in ref.AFFLUENCE], dtype=np.int64)
_OFFER_TABLE = np.array([[PRODUCT_INDEX[OFFERS[a][min(i, len(OFFERS[a]) - 1)]] for i in range(_OFFER_COUNT.max())]
                         for a in ref.AFFLUENCE], dtype=np.int64)
_MIN_CIBIL = np.array([p.min_cibil_score for p in CATALOGUE], dtype=np.int32)
_CARD = PRODUCT_TYPES.index("Credit Card")


@dataclass(frozen=True)
class Campaign:
    month: date          # first day of the campaign's month

    @property
    def campaign_id(self) -> str:
        return f"XSELL-CC-{self.month:%Y-%m}"

    @property
    def name(self) -> str:
        return f"Credit card cross-sell {self.month:%B %Y}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.month.year, self.month.month)[1]

    @property
    def closes(self) -> date:
        """The last day a journey of the campaign can move: the end of the following month."""
        nxt = (self.month + timedelta(days=32)).replace(day=1)
        return nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])


def open_campaigns(day: date) -> tuple[Campaign, Campaign]:
    """(the previous month's campaign, still open; the month's campaign, reaching)."""
    this = day.replace(day=1)
    return Campaign((this - timedelta(days=1)).replace(day=1)), Campaign(this)


# ------------------------------------------------------------------------------------ profiles

def customer_features(customers: dict[str, np.ndarray], accounts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per customer of the customer book: in the audience, holds a card, card utilisation
    (outstanding / limit over its cards, as dbt's customer_holdings)."""
    n = len(customers["cust_id"])
    order = np.argsort(customers["cust_id"], kind="stable")
    pos = np.searchsorted(customers["cust_id"], accounts["cust_id"], sorter=order)
    pos = np.clip(pos, 0, max(n - 1, 0))
    owner = order[pos] if n else pos
    known = (customers["cust_id"][owner] == accounts["cust_id"]) if n else np.zeros(0, bool)
    card = known & (PRODUCT_TYPE_CODE[accounts["product"]] == _CARD)
    limit = np.bincount(owner[card], weights=accounts["card_limit"][card], minlength=n)
    balance = np.bincount(owner[card], weights=accounts["card_balance"][card], minlength=n)
    cards = np.bincount(owner[card], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(limit > 0, balance / np.where(limit > 0, limit, 1), np.nan)
    audience = (customers["ctype"] == ref.CUSTOMER_TYPES.index("Personal")) & ~customers["minor"] & ~customers["deceased"]
    return {"audience": audience, "cards": cards, "utilisation": utilisation}


def profiles(seed: int, customers: dict[str, np.ndarray], features: dict[str, np.ndarray]) -> np.ndarray:
    """Index into PROFILES per customer: the dbt archetype rules on the generator's attributes. The
    generator does not draw a transaction mix per customer, so "Deal Chasers" stands for card
    holders who transact a lot (activity DEAL_ACTIVITY or more: Card is their main mode and the
    most Ecom-heavy), "Generic" for the other card holders."""
    cibil, util = customers["cibil"], features["utilisation"]
    high = customers["affluence"] == ref.AFFLUENCE.index("High")
    holds = features["cards"] > 0
    util0 = np.nan_to_num(util, nan=0.0)
    return np.select(
        [cibil < RECOVERING_BELOW,
         holds & (util0 >= STRESSED_UTILISATION),
         high & (cibil >= PROSPEROUS_FROM) & (util0 < PROSPEROUS_UTILISATION),
         holds & (activity(seed, customers["cust_id"]) >= DEAL_ACTIVITY),
         ~holds],
        [0, 1, 2, 3, 4], default=5).astype(np.int8)


_ADVANCE = np.array([ADVANCE[p] for p in PROFILES], dtype=np.float64)     # profiles x transitions


# -------------------------------------------------------------------------------------- state

def campaign_state(landed: pa.Table, campaigns: tuple[Campaign, ...]) -> dict[str, np.ndarray]:
    """Where each journey of ``campaigns`` stands, from its landed events (strings): one row per
    (campaign, customer) with the highest stage landed and the offered product. Rows that are not
    well-formed (the deliberately bad ones) are ignored."""
    def index_in(column: str, values) -> np.ndarray:
        found = pc.index_in(landed.column(column), value_set=pa.array(list(values), pa.string()))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    camp = index_in("campaign_id", (c.campaign_id for c in campaigns))
    stage = index_in("stage", STAGES)
    product = index_in("product_id", (p.product_id for p in CATALOGUE))
    well_formed = pc.fill_null(pc.match_substring_regex(landed.column("cust_id"), r"^[0-9]{10}$"), False)
    cust = pc.if_else(well_formed, landed.column("cust_id"), pa.scalar("-1", pa.string()))
    cust = pc.cast(cust, pa.int64()).to_numpy(zero_copy_only=False)
    ok = (camp >= 0) & (stage >= 0) & (product >= 0) & (cust >= 0)
    camp, stage, product, cust = camp[ok], stage[ok], product[ok], cust[ok]
    order = np.lexsort((-stage, cust, camp))
    camp, stage, product, cust = camp[order], stage[order], product[order], cust[order]
    first = np.ones(len(cust), dtype=bool)
    first[1:] = (cust[1:] != cust[:-1]) | (camp[1:] != camp[:-1])
    return {"campaign": camp[first], "cust_id": cust[first], "stage": stage[first], "product": product[first]}


def landed_state(lander, day: date) -> dict[str, np.ndarray]:
    """The state of the campaigns open on ``day`` from the events landed on their days before it."""
    from include.mockgen.updates import landed_dates

    campaigns = open_campaigns(day)
    start = campaigns[0].month
    tables = [lander.read(ENTITY, on=d) for d in landed_dates(lander, ENTITY) if start <= d < day]
    empty = pa.table({n: pa.array([], pa.string()) for n in CAMPAIGN_EVENTS.column_names})
    return campaign_state(pa.concat_tables(tables) if tables else empty, campaigns)


# --------------------------------------------------------------------------------- simulation

def _events_of_day(seed: int, day: date, customers: dict[str, np.ndarray], features: dict[str, np.ndarray],
                   state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The day's events as arrays (campaign index into open_campaigns(day), customer id, stage,
    product), in no particular order."""
    campaigns = open_campaigns(day)
    ids = customers["cust_id"]
    order = np.argsort(ids, kind="stable")
    prof = profiles(seed, customers, features)

    # today's reach: the month's campaign, audience customers whose reach day is today
    current = campaigns[1]
    u = stable_uniform(seed, ids, f"reach:{current.campaign_id}")
    reach_day = (u / REACH_SHARE * current.days).astype(np.int64) + 1
    reached = features["audience"] & (u < REACH_SHARE) & (reach_day == day.day)
    new = np.flatnonzero(reached)
    tier = customers["affluence"][new].astype(np.int64)
    pick = (stable_uniform(seed, ids[new], f"offer:{current.campaign_id}") * _OFFER_COUNT[tier]).astype(np.int64)
    offers = _OFFER_TABLE[tier, pick]

    # journeys that can move today: in-flight ones of open campaigns (state) + today's reaches
    pos = np.clip(np.searchsorted(ids, state["cust_id"], sorter=order), 0, max(len(ids) - 1, 0))
    row = order[pos] if len(ids) else pos
    known = (ids[row] == state["cust_id"]) if len(ids) else np.zeros(len(state["cust_id"]), bool)
    still_open = np.array([day <= c.closes for c in campaigns], dtype=bool)[state["campaign"]]
    moving = known & still_open & (state["stage"] < len(STAGES) - 1)
    j_campaign = np.concatenate([state["campaign"][moving], np.ones(len(new), np.int64)])
    j_row = np.concatenate([row[moving], new])
    j_stage = np.concatenate([state["stage"][moving], np.zeros(len(new), np.int64)])
    j_product = np.concatenate([state["product"][moving], offers])
    j_row_alive = features["audience"][j_row]

    events = [(np.ones(len(new), np.int64), ids[new], np.zeros(len(new), np.int64), offers)]
    active = np.flatnonzero(j_row_alive)
    for step in range(len(STAGES) - 1):
        if not len(active):
            break
        k = j_stage[active]
        can = k < len(STAGES) - 1
        active, k = active[can], k[can]
        cid = np.array([campaigns[c].campaign_id for c in j_campaign[active]], dtype=object)
        will = np.empty(len(active), dtype=np.float64)
        for key in np.unique(np.stack([j_campaign[active], k], axis=1), axis=0) if len(active) else ():
            sel = (j_campaign[active] == key[0]) & (k == key[1])
            will[sel] = stable_uniform(seed, ids[j_row[active][sel]], f"advance:{cid[sel][0]}:{key[1]}")
        p = _ADVANCE[prof[j_row[active]], k]
        declined = (k == APPLICATION) & (customers["cibil"][j_row[active]] < _MIN_CIBIL[j_product[active]])
        p = np.where(declined, 0.0, p)
        today = rng_for(seed, day, ENTITY, 0, f"speed{step}").random(len(active)) < np.asarray(SPEED)[k]
        moves = (will < p) & today
        active = active[moves]
        j_stage[active] += 1
        events.append((j_campaign[active], ids[j_row[active]], j_stage[active], j_product[active]))
    campaign, cust, stage, product = (np.concatenate([e[i] for e in events]) for i in range(4))
    return {"campaign": campaign, "cust_id": cust, "stage": stage, "product": product}


def _timestamps(rng, day: date, journey: np.ndarray, stage: np.ndarray) -> np.ndarray:
    """Times inside the day, in stage order within each journey: the journey's uniform draws sorted
    and handed out by stage."""
    seconds = rng.integers(0, 86400, len(journey))
    by_stage = np.lexsort((stage, journey))
    by_time = np.lexsort((seconds, journey))
    out = np.empty(len(journey), dtype=np.int64)
    out[by_stage] = seconds[by_time]
    return np.datetime64(day, "s") + out.astype("timedelta64[s]")


def _event_id(ctx, rng):
    """E + YYYYMMDD + 10 digits: the row number within the day."""
    prefix = b"E" + ctx.logical_date.strftime("%Y%m%d").encode()
    return digits(np.arange(ctx.offset, ctx.offset + ctx.n, dtype=np.int64), 10, prefix=prefix)


def _campaign_cat(attr):
    def fn(ctx, rng):
        return Cat(tuple(getattr(c, attr) for c in open_campaigns(ctx.logical_date)), ctx["_campaign"].astype(np.int32))
    return fn


CAMPAIGN_EVENT_SPEC = EntitySpec(CAMPAIGN_EVENTS, 0, [
    Derived("event_id", fn=_event_id),
    Derived("cust_id", fn=lambda ctx, rng: digits(ctx["_cust_id"], 10)),
    Derived("campaign_id", fn=_campaign_cat("campaign_id")),
    Derived("campaign_name", fn=_campaign_cat("name")),
    Derived("product_id", fn=lambda ctx, rng: Cat(tuple(p.product_id for p in CATALOGUE), ctx["_product"].astype(np.int32))),
    Derived("stage", fn=lambda ctx, rng: Cat(STAGES, ctx["_stage"].astype(np.int32))),
    Derived("stage_ts", fn=lambda ctx, rng: ctx["_ts"]),
    Derived("channel", fn=lambda ctx, rng: Cat(CHANNELS, group_weighted_choice(rng, ctx["_stage"], CHANNEL_BY_STAGE))),
])


def campaign_events(seed: int, day: date, customers: dict[str, np.ndarray], accounts: dict[str, np.ndarray],
                    state: dict[str, np.ndarray] | None = None) -> pa.Table:
    """The campaign events of ``day`` for the customer and account books, continuing the journeys
    in ``state`` (``landed_state``; none on the first day). Sorted by time, then customer and stage."""
    if state is None:
        state = campaign_state(pa.table({n: pa.array([], pa.string()) for n in CAMPAIGN_EVENTS.column_names}),
                               open_campaigns(day))
    features = customer_features(customers, accounts)
    ev = _events_of_day(seed, day, customers, features, state)
    journey = ev["campaign"] * 10_000_000_000 + ev["cust_id"]
    ts = _timestamps(rng_for(seed, day, ENTITY, 0, "stage_ts"), day, journey, ev["stage"])
    order = np.lexsort((ev["stage"], ev["cust_id"], ts))
    inputs = {"_campaign": ev["campaign"][order], "_cust_id": ev["cust_id"][order], "_stage": ev["stage"][order],
              "_product": ev["product"][order], "_ts": ts[order]}
    ctx = CAMPAIGN_EVENT_SPEC.evaluate(seed, day, 0, len(order), offset=0, inputs=inputs)
    return CAMPAIGN_EVENT_SPEC.materialise(ctx)


def funnel(table: pa.Table) -> dict[str, int]:
    """Events per stage of a campaign events table (a quick look at the shape)."""
    counts = pc.value_counts(table.column("stage")).to_pylist()
    found = {c["values"]: c["counts"] for c in counts}
    return {s: int(found.get(s, 0)) for s in STAGES}
