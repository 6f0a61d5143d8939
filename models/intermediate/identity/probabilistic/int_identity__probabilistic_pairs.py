"""Scored candidate pairs of the probabilistic tier (Fellegi-Sunter, customer360.probabilistic).

Candidates come from the declared blocking rules over int_identity__probabilistic_records;
every pair is scored with the **stored** model (identity_state.probabilistic_model, the
current version), so a build never retrains and IDs do not move because EM moved. Only
when no model is stored yet (first build, or after `customer360 reset-ids`) is one trained
on these records and stored as the next version. `customer360 retrain-matcher` trains a
new version on purpose.

One row per candidate pair with match probability >= 0.5 (the links, is_link, are those at
or above the declared threshold and not vetoed); per comparison its level and weight, so
every link can be explained.
"""

from __future__ import annotations

import json


def model(dbt, session):
    dbt.config(materialized="table")
    from customer360 import probabilistic as pm

    settings_row = dbt.ref("int_identity__probabilistic_settings").fetchall()[0]
    records = dbt.ref("int_identity__probabilistic_records")
    settings = json.loads(settings_row[1])
    if not settings_row[0]:
        settings.setdefault("comparisons", [])
        settings.setdefault("blocking", [])
        return pm._empty_scored(pm.MatchSpec.from_dict(settings))
    spec = pm.MatchSpec.from_dict(settings)
    table, _version, _report = pm.score_records(session, records.sql_query(), spec)
    return table
