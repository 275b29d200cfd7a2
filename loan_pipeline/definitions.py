"""The one Definitions object of the project."""

import dagster as dg

from loan_pipeline.resources import build_resources

defs = dg.Definitions(
    assets=[],
    resources=build_resources(),
)
