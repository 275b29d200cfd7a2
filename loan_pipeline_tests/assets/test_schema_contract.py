"""The schema-contract check passes on the contracted layout and names what differs otherwise."""

import pandas as pd

from loan_pipeline import lake
from loan_pipeline.assets.metadata import schema_contract_result


def test_schema_contract_names_missing_unexpected_and_mistyped_columns(tmp_path):
    table = tmp_path / "t"
    frame = pd.DataFrame({"a": ["x"], "b": [1.5], "c": [3], "month": ["2023-01-01"]})
    lake.write_months_pandas(frame, table, ["2023-01-01"])
    assert schema_contract_result(table, ["2023-01-01"], {"a": "string", "b": "double", "c": "int64"}).passed
    result = schema_contract_result(table, ["2023-01-01"], {"a": "string", "b": "int32", "d": "string"})
    assert not result.passed
    problems = result.metadata["problems_per_month"].value["2023-01-01"]
    assert problems == {"missing": ["d"], "unexpected": ["c"], "mistyped": {"b": "double (expected int32)"}}
