"""Asset tests: the segmentation assets materialized with dg.materialize into a temporary home."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import dagster as dg
from loan_pipeline.partitions import range_tags

from loan_pipeline import lake, tables
from loan_pipeline.assets.segmentation import segmentation_checks
from loan_pipeline.assets.segmentation.credit_card import cc_customers, cc_elbow, cc_features, cc_kmeans_model, cc_segments
from loan_pipeline.assets.segmentation.loan_book import customer_segments
from loan_pipeline.assets.segmentation.storage import SegmentationPaths
from loan_pipeline.files import sha256_file
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.sources import cc_generator
from loan_pipeline.sources.schemas import FINANCIALS
from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline.transforms.segmentation.loan_book import DEFAULT_LOAN_BOOK_FEATURES
from loan_pipeline.transforms.segmentation.model import model_k
from loan_pipeline.transforms.segmentation.persistence import load_model, manifest_path

CC_ASSETS = [cc_customers, cc_features, cc_elbow, cc_kmeans_model, cc_segments]
CHECKS = segmentation_checks


def materialize(selection, home, cc_dir=None, **kwargs) -> dg.ExecuteInProcessResult:
    resource = LoanPipelineSettings(home=str(home), cc_data_dir=str(cc_dir) if cc_dir else "")
    return dg.materialize(
        selection, resources={"pipeline_settings": resource}, instance=dg.DagsterInstance.ephemeral(), **kwargs
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str, partition: str | None = None) -> dict:
    events = [e for e in result.asset_materializations_for_node(asset) if e.partition == partition]
    assert len(events) == 1
    return {k: v.value for k, v in events[0].metadata.items()}


def paths_for(home) -> SegmentationPaths:
    return SegmentationPaths.of(LoanPipelineSettings(home=str(home)).get())


# --- credit-card segmentation on the real data -----------------------------------------------------


@pytest.fixture(scope="module")
def real_cc(tmp_path_factory, cc_general_dir):
    home = tmp_path_factory.mktemp("cc_home")
    result = materialize([*CC_ASSETS, *CHECKS], home, cc_general_dir)
    assert result.success
    return home, result


def test_cc_assets_write_their_outputs(real_cc):
    home, _ = real_cc
    paths = paths_for(home)
    for path in (paths.customers, paths.features, paths.preprocessor, paths.elbow, paths.elbow_png, paths.model,
                 manifest_path(paths.model), paths.segments, paths.profiles, paths.report):
        assert path.exists(), path
    assert str(paths.model).startswith(str(home / "model_store" / "segmentation"))
    assert paths.elbow_png.read_bytes()[:4] == b"\x89PNG"
    customers = pd.read_parquet(paths.customers)
    assert len(customers) == 8950
    assert customers["CREDIT_LIMIT"].isna().sum() == 1
    assert str(customers["TENURE"].dtype) == "Int64"


def test_cc_model_k_is_the_elbow_k(real_cc):
    home, result = real_cc
    paths = paths_for(home)
    elbow_k = metadata(result, "cc_elbow")["elbow_k"]
    assert metadata(result, "cc_elbow")["max_k"] == 49
    assert json.loads(paths.elbow.read_text())["k"] == elbow_k
    manifest = json.loads(manifest_path(paths.model).read_text())
    assert manifest["k"] == elbow_k
    assert manifest["sha256"] == sha256_file(paths.model)
    assert manifest["features"] == ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]
    bundle = load_model(paths.model)
    assert bundle["k"] == model_k(bundle["model"]) == elbow_k
    assert metadata(result, "cc_kmeans_model")["k"] == elbow_k
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"cc_kmeans_model_matches_elbow": True, "cc_segments_complete": True}


def test_cc_segments_cover_every_customer_and_the_test_customer(real_cc):
    home, result = real_cc
    paths = paths_for(home)
    k = metadata(result, "cc_elbow")["elbow_k"]
    rows = pd.read_parquet(paths.segments)
    assert rows["source"].value_counts().to_dict() == {"file.csv": 8950, "test.csv": 1}
    assert rows["segment"].between(0, k - 1).all()
    test = rows[rows["source"] == "test.csv"].iloc[0]
    assert test["CUST_ID"] == "TEST-1"
    assert list(test["outside_training_range"]) == ["CREDIT_LIMIT"]
    meta = metadata(result, "cc_segments")
    assert meta["test_segments"] == {"TEST-1": int(test["segment"])}
    profiles = pd.read_parquet(paths.profiles)
    assert len(profiles) == k and profiles["customers"].sum() == 8950
    assert meta["profiles"].count("\n") == k + 1  # header, rule, one line per segment
    assert "| TEST-1 |" in meta["test_customers"]


def test_cc_ui_metadata_shows_the_elbow_plot(real_cc):
    _, result = real_cc
    meta = metadata(result, "cc_elbow")
    assert meta["elbow_plot"].startswith("![SSE by k](data:image/png;base64,")
    assert meta["elbow_found"] is True
    assert meta["sse_by_k"].count("\n") == 49 + 1
    assert "median (imputes blanks)" in metadata(result, "cc_features")["scaling"]
    assert metadata(result, "cc_features")["rows_with_blanks"] == 1


def test_cc_rematerialization_gives_the_same_k_model_and_segments(real_cc, tmp_path, cc_general_dir):
    home, result = real_cc
    again = materialize(CC_ASSETS, tmp_path, cc_general_dir)
    assert metadata(again, "cc_elbow")["elbow_k"] == metadata(result, "cc_elbow")["elbow_k"]
    # Same bytes, so the same content hash.
    assert metadata(again, "cc_kmeans_model")["sha256"] == metadata(result, "cc_kmeans_model")["sha256"]
    pd.testing.assert_frame_equal(pd.read_parquet(paths_for(tmp_path).segments), pd.read_parquet(paths_for(home).segments))


# --- configuration and bad input, on the generated sample --------------------------------------------


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cc_generated")
    cc_generator.generate_cc_general(folder, customers=1500, seed=11)
    return folder


def test_config_changes_max_k(tmp_path, generated_dir):
    result = materialize(CC_ASSETS, tmp_path, generated_dir, run_config={"ops": {"cc_elbow": {"config": {"max_k": 20}}}})
    meta = metadata(result, "cc_elbow")
    assert meta["max_k"] == 20
    assert json.loads(paths_for(tmp_path).elbow.read_text())["ks"] == list(range(1, 21))
    assert metadata(result, "cc_kmeans_model")["k"] == meta["elbow_k"]


def test_other_features_need_a_matching_test_csv(tmp_path, generated_dir):
    features = ["BALANCE", "PURCHASES", "CREDIT_LIMIT", "PAYMENTS"]
    run_config = {"ops": {"cc_features": {"config": {"features": features}}, "cc_elbow": {"config": {"max_k": 12}}}}
    with pytest.raises(SegmentationInputError, match=r"test.csv: columns must be exactly .* missing \['PAYMENTS'\]"):
        materialize(CC_ASSETS, tmp_path, generated_dir, run_config=run_config)
    # Everything before cc_segments used the configured features.
    assert json.loads(manifest_path(paths_for(tmp_path).model).read_text())["features"] == features


def test_unknown_feature_is_a_clear_error(tmp_path, generated_dir):
    run_config = {"ops": {"cc_features": {"config": {"features": ["BALANCE", "SPEND"]}}}}
    with pytest.raises(SegmentationInputError, match=r"missing feature column\(s\) \['SPEND'\]"):
        materialize(CC_ASSETS[:2], tmp_path, generated_dir, run_config=run_config)


def test_fewer_customers_than_k_fails_naming_the_file(tmp_path):
    cc_generator.generate_cc_general(tmp_path / "cc", customers=30, seed=1)
    with pytest.raises(SegmentationInputError, match=r"file.csv .* 29 customers with all features, fewer than max_k=49"):
        materialize(CC_ASSETS, tmp_path / "home", tmp_path / "cc")


def test_missing_column_in_file_csv_fails_naming_file_and_column(tmp_path, generated_dir):
    folder = tmp_path / "cc"
    folder.mkdir()
    pd.read_csv(generated_dir / "file.csv").drop(columns=["PURCHASES"]).to_csv(folder / "file.csv", index=False)
    with pytest.raises(SegmentationInputError, match=r"cc/file.csv: missing column\(s\) \['PURCHASES'\]"):
        materialize(CC_ASSETS[:1], tmp_path / "home", folder)


# --- loan book, monthly ----------------------------------------------------------------------------

FEATURES = list(DEFAULT_LOAN_BOOK_FEATURES)
CENTERS = np.array([[500.0, 50.0, 1500.0], [3500.0, 600.0, 9000.0], [1500.0, 250.0, 4000.0]])


def fake_month(month: str, n_per_segment: int, seed: int, prefix: str) -> pd.DataFrame:
    """Three well-separated groups of customers, dated inside `month`, in the silver layout."""
    rng = np.random.default_rng(seed)
    X = np.vstack([c + rng.normal(0, c * 0.03, size=(n_per_segment, 3)) for c in CENTERS]) if n_per_segment else np.empty((0, 3))
    n = len(X)
    df = pd.DataFrame(X, columns=FEATURES)
    df.insert(0, "Customer_ID", [f"CUS_{prefix}_{i:04d}" for i in range(n)])
    df["snapshot_date"] = (pd.Timestamp(month) + pd.to_timedelta(rng.integers(0, 28, n), unit="D")).date
    df["Annual_Income"] = df["Monthly_Inhand_Salary"] * 13
    df["Credit_Mix"] = "Good"
    df["dq_flags"] = [["Credit_Mix:unknown_category"] if i % 7 == 0 else [] for i in range(n)]
    df["ssn_valid"] = True
    df["month"] = month
    return df


@pytest.fixture()
def silver_home(tmp_path):
    """silver_financials with Jan (150 rows), Feb (150), Mar (4 rows, fewer than K), Apr (no rows)."""
    jan = fake_month("2023-01-01", 50, 1, "jan")
    # One absurd, flagged Outstanding_Debt: must count as missing, not squash the scaling.
    jan.loc[0, "Outstanding_Debt"] = 5e7
    jan.at[0, "dq_flags"] = ["Outstanding_Debt:out_of_range"]
    feb = fake_month("2023-02-01", 50, 2, "feb")
    mar = fake_month("2023-03-01", 50, 3, "mar").iloc[[0, 1, 50, 100]]
    silver = pd.concat([jan, feb, mar], ignore_index=True)
    table = LoanPipelineSettings(home=str(tmp_path)).get().table(tables.silver(FINANCIALS))
    lake.write_months_pandas(silver, table, ["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01"])
    return tmp_path


def gold(home) -> pd.DataFrame:
    return lake.read_months_pandas(LoanPipelineSettings(home=str(home)).get().table(tables.CUSTOMER_SEGMENTS))


def report(home, month: str) -> dict:
    return json.loads(paths_for(home).monthly_report(month).read_text())


def test_customer_segments_backfill_in_one_run(silver_home):
    result = materialize([customer_segments], silver_home, tags=range_tags("2023-01-01", "2023-04-01"))
    assert result.success
    out = gold(silver_home)
    assert out.groupby("month").size().to_dict() == {"2023-01-01": 150, "2023-02-01": 150, "2023-03-01": 4}
    assert lake.available_months(LoanPipelineSettings(home=str(silver_home)).get().table(tables.CUSTOMER_SEGMENTS)) == [
        "2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01"
    ]
    jan = out[out["month"] == "2023-01-01"]
    assert set(jan["k"]) == {3}
    # Each fake group is exactly one segment.
    groups = jan["Customer_ID"].str[-4:].astype(int) // 50
    assert jan.groupby(groups)["segment"].nunique().eq(1).all() and jan["segment"].nunique() == 3
    flagged = jan[jan["Customer_ID"] == "CUS_jan_0000"].iloc[0]
    assert np.isnan(flagged["Outstanding_Debt"]) and flagged["n_imputed"] == 1
    assert jan["n_imputed"].sum() == 1

    assert report(silver_home, "2023-01-01")["ari_vs_previous"] is None  # no December in silver
    feb = report(silver_home, "2023-02-01")
    assert feb["k"] == 3 and feb["ari_vs_previous"] == pytest.approx(1.0)
    mar = report(silver_home, "2023-03-01")
    assert mar["customers"] == 4 and mar["max_k"] == 3  # K lowered to n - 1
    assert report(silver_home, "2023-04-01")["customers"] == 0
    assert not paths_for(silver_home).monthly_model("2023-04-01").exists()
    manifest = json.loads(manifest_path(paths_for(silver_home).monthly_model("2023-02-01")).read_text())
    assert manifest["k"] == 3 and manifest["month"] == "2023-02-01" and manifest["features"] == FEATURES
    # One materialization per month of the range, from a single step.
    assert sorted(e.partition for e in result.asset_materializations_for_node("customer_segments")) == [
        "2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01"
    ]
    meta = metadata(result, "customer_segments", "2023-02-01")
    assert meta["dagster/row_count"] == 304
    assert "| 2023-02-01 | 150 | 49 | 3 | True | 1.000 |" in meta["months"]


def test_customer_segments_single_month_equals_the_backfill(silver_home, tmp_path):
    materialize([customer_segments], silver_home, tags=range_tags("2023-01-01", "2023-02-01"))
    backfilled = gold(silver_home)
    ari = report(silver_home, "2023-02-01")["ari_vs_previous"]
    materialize([customer_segments], silver_home, partition_key="2023-02-01")
    single = gold(silver_home)
    pd.testing.assert_frame_equal(single, backfilled)
    # Stability came from refitting January: the same number as in the backfill.
    assert report(silver_home, "2023-02-01")["ari_vs_previous"] == ari


def test_customer_segments_fails_clearly_without_its_silver_month(silver_home):
    with pytest.raises(FileNotFoundError, match=r"silver_financials .* month 2023-06-01: partition not found"):
        materialize([customer_segments], silver_home, partition_key="2023-06-01")


def test_customer_segments_all_empty_feature_names_month_and_column(tmp_path):
    jan = fake_month("2023-01-01", 10, 1, "jan").assign(Amount_invested_monthly=np.nan)
    table = LoanPipelineSettings(home=str(tmp_path)).get().table(tables.silver(FINANCIALS))
    lake.write_months_pandas(jan, table, ["2023-01-01"])
    with pytest.raises(SegmentationInputError, match=r"month 2023-01-01: feature column Amount_invested_monthly is empty"):
        materialize([customer_segments], tmp_path, partition_key="2023-01-01")


def test_definitions_load_with_the_segmentation_assets():
    from loan_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in ("cc_customers", "cc_features", "cc_elbow", "cc_kmeans_model", "cc_segments", "customer_segments"):
        assert dg.AssetKey(key) in graph.get_all_asset_keys()
    assert defs.resolve_assets_def("customer_segments").backfill_policy == dg.BackfillPolicy.single_run()


def test_missing_cc_folder_points_to_the_generator(tmp_path):
    with pytest.raises(SegmentationInputError, match=r"file.csv: file not found; .*loan_pipeline.sources.cc_generator --out"):
        materialize(CC_ASSETS[:1], tmp_path / "home", tmp_path / "nowhere")
