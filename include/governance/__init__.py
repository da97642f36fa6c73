"""Data governance of the customer data product: the seed's three masking policies as versioned
YAML, a policy engine that decides each column's treatment for a user's role tags, and role views
in DuckDB generated from that engine. Column tags are declared once, as dbt column ``tags``, and
read from the dbt manifest.

Priority rule: the **lowest priority number wins** (DataOS semantics, lower = higher precedence).
The seed's numbers only make sense that way: the PII grant (``roles:id:pii-reader``, 75) is an
exception to the masks, so it must beat the hash (``roles:id:restricted-acess``, 80) and the
date-of-birth bucketing (``roles:id:dob-bucketing``, 85) for a user holding several roles. Users
with no matching policy get the most restrictive treatment (hash for ``TW.mask``, NULL for
``TW.dob``), never clear values. ``restricted-acess`` is the seed's spelling, kept on purpose.
See README.md in this folder.
"""
from include.governance.engine import Decision, decide, decide_column, mask_row
from include.governance.errors import GovernanceError
from include.governance.policy import PolicySet, load_policy_set
from include.governance.treatments import Treatment, hash_value
from include.governance.views import apply_role_views

__all__ = ["Decision", "GovernanceError", "PolicySet", "Treatment", "apply_role_views", "decide",
           "decide_column", "hash_value", "load_policy_set", "mask_row"]
