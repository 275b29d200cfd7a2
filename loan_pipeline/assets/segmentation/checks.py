"""The credit-card segmentation's asset checks: the saved model is the one its manifest describes and
has the elbow's k; every customer has a valid segment and no segment is empty.
"""

import json

import pandas as pd

import dagster as dg

from loan_pipeline.assets.segmentation.credit_card import cc_kmeans_model, cc_segments
from loan_pipeline.assets.segmentation.storage import SegmentationPaths
from loan_pipeline.files import sha256_file
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.sources.cc_generator import CC_CUSTOMERS_FILE
from loan_pipeline.transforms.segmentation.model import model_k
from loan_pipeline.transforms.segmentation.persistence import load_model, manifest_path


@dg.asset_check(asset=cc_kmeans_model, description="The saved model is the one in its manifest and has the elbow's k.")
def cc_kmeans_model_matches_elbow(pipeline_settings: LoanPipelineSettings) -> dg.AssetCheckResult:
    paths = SegmentationPaths.of(pipeline_settings.get())
    manifest = json.loads(manifest_path(paths.model).read_text())
    elbow = json.loads(paths.elbow.read_text())
    sha = sha256_file(paths.model)
    bundle = load_model(paths.model, verify=False)
    saved_k = model_k(bundle["model"])
    return dg.AssetCheckResult(
        passed=bool(sha == manifest["sha256"] and saved_k == manifest["k"] == elbow["k"]),
        metadata={"elbow_k": elbow["k"], "model_k": saved_k, "manifest_k": manifest["k"], "sha256_matches": sha == manifest["sha256"]},
    )


@dg.asset_check(asset=cc_segments, description="Every customer (file.csv and test.csv) has a segment in 0..k-1 and no segment is empty.")
def cc_segments_complete(pipeline_settings: LoanPipelineSettings) -> dg.AssetCheckResult:
    paths = SegmentationPaths.of(pipeline_settings.get())
    rows = pd.read_parquet(paths.segments)
    k = json.loads(manifest_path(paths.model).read_text())["k"]
    known = rows[rows["source"] == CC_CUSTOMERS_FILE]
    bad = int((rows["segment"].isna() | (rows["segment"] < 0) | (rows["segment"] >= k)).sum())
    empty = sorted(set(range(k)) - set(known["segment"].astype(int)))
    return dg.AssetCheckResult(
        passed=bad == 0 and not empty,
        metadata={"rows": len(rows), "rows_without_valid_segment": bad, "empty_segments": dg.MetadataValue.json(empty)},
    )
