"""dbt docs a newcomer can read: an overview page, owners, exposures, and each entity's cleansing
rules as a table that lists exactly the rules the SQL applies (no rule undocumented, none stale)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from include.mockgen.schema import DECIMAL_PLACES
from include.mockgen.schema import ENTITIES as ENTITY_DECLARATIONS

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
DOCS = (DBT / "models" / "intermediate" / "_intermediate__docs.md").read_text()
ENTITIES = ("customers", "products", "accounts", "transactions")


def _block(name: str) -> str:
    m = re.search(r"{%\s*docs\s+" + name + r"\s*%}(.*?){%\s*enddocs\s*%}", DOCS, re.S)
    assert m, f"no docs block {name}"
    return m.group(1)


def _model_rules(sql: str) -> set[str]:
    """The rules a validated model writes itself (its `set rules = [...]` list)."""
    body = sql[sql.index("set rules = ["):]
    body = body[:body.index("] + contract_rules(") if "] + contract_rules(" in body else body.index("] -%}")]
    return set(re.findall(r"^\s*\('([a-z0-9_]+)',", body, re.M))


def _contract_rules(entity: str) -> set[str]:
    """The rules macros/cleansing/contract_rules.sql derives from the landing declaration."""
    out = {"conflicting_version"}
    for c in ENTITY_DECLARATIONS[entity].columns:
        if c.allowed:
            out.add(f"{c.staged_name}_allowed")
        if c.type == "timestamp":
            out.add(f"{c.staged_name}_{'within' if c.within_logical_day else 'not_after'}_logical_day")
    return out


def _type_rules(entity: str) -> set[str]:
    """The type rules staging derives from the declaration (macros/cleansing/strict_cast.sql)."""
    names = {"int": "integer", "decimal": "decimal", "date": "date", "timestamp": "timestamp"}
    out = set()
    for c in ENTITY_DECLARATIONS[entity].columns:
        if c.type in names:
            out.add(f"{c.staged_name}_is_{names[c.type]}")
        if c.type == "decimal":
            out.add(f"{c.staged_name}_max_{DECIMAL_PLACES}_decimals")
    return out


def test_each_entitys_rule_table_lists_exactly_the_rules_its_model_applies():
    for entity in ENTITIES:
        block = _block(f"int_{entity}_validated")
        documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", block, re.M))
        sql = (DBT / "models" / "intermediate" / f"int_{entity}_validated.sql").read_text()
        applied = _model_rules(sql) | (_contract_rules(entity) if f"contract_rules('{entity}'" in sql else set())
        assert documented == applied, (entity, documented ^ applied)


def test_each_entitys_type_rules_are_named_in_its_docs():
    for entity in ENTITIES:
        block = _block(f"int_{entity}_validated")
        staging = (DBT / "models" / "staging" / f"stg_landing__{entity}.sql").read_text()
        assert f"stage_landing('" in staging, entity
        type_rules = _type_rules(entity)
        assert type_rules and all(f"`{r}`" in block for r in type_rules), (entity, type_rules)


def test_the_intermediate_models_take_their_description_from_the_docs_blocks():
    models = {m["name"]: m for m in yaml.safe_load(
        (DBT / "models" / "intermediate" / "_intermediate__models.yml").read_text())["models"]}
    for entity in ENTITIES:
        assert models[f"int_{entity}_validated"]["description"] == f'{{{{ doc("int_{entity}_validated") }}}}'


def test_the_docs_open_on_the_projects_overview_not_dbts_welcome_page():
    overview = (DBT / "models" / "overview.md").read_text()
    assert "{% docs __overview__ %}" in overview and "Owner" in overview


def test_every_model_has_the_product_team_as_owner_and_every_exposure_an_owner():
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    assert project["models"]["fsdp"]["+group"] == "fsdp_data_product"
    assert project["models"]["fsdp"]["+meta"]["owner"] == "fs-domain-team"
    groups = yaml.safe_load((DBT / "models" / "_groups.yml").read_text())["groups"]
    assert [g["name"] for g in groups] == ["fsdp_data_product"] and groups[0]["owner"]["name"]
    exposures = yaml.safe_load((DBT / "models" / "_exposures.yml").read_text())["exposures"]
    assert {e["name"] for e in exposures} >= {"product_health_check", "governed_role_views", "curated_output_port"}
    assert all(e["owner"].get("name") and e["depends_on"] for e in exposures)
