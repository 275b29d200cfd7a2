"""Unit tests of the segmentation functions and the CC sample generator (no Dagster)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.datasets import make_blobs

from loan_pipeline.sources import cc_generator
from loan_pipeline.transforms import segmentation as seg

# --- helpers ---------------------------------------------------------------------------------------


def blobs(n_clusters: int, n: int = 600, seed: int = 0) -> np.ndarray:
    """Well-separated blobs in the unit cube (like MinMax-scaled features)."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(0, 1, size=(n_clusters, 3))
    # Keep centres apart so the structure is unambiguous.
    while min(np.linalg.norm(a - b) for i, a in enumerate(centers) for b in centers[i + 1:]) < 0.35:
        centers = rng.uniform(0, 1, size=(n_clusters, 3))
    X, _ = make_blobs(n_samples=n, centers=centers, cluster_std=0.02, random_state=seed)
    return X


def write_cc(folder, customers: pd.DataFrame, test_text: str = "BALANCE,PURCHASES,CREDIT_LIMIT\n100,20,1000"):
    folder.mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / "file.csv", index=False)
    (folder / "test.csv").write_text(test_text)
    return folder


@pytest.fixture(scope="module")
def sample_customers(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("cc_small")
    cc_generator.generate_cc_general(folder, customers=400, seed=7)
    return pd.read_csv(folder / "file.csv")


@pytest.fixture(scope="module")
def real_run(cc_general_dir):
    return seg.run_cc_segmentation(cc_general_dir)


# --- elbow -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_clusters", [3, 4, 6, 8])
def test_elbow_finds_the_number_of_well_separated_blobs(n_clusters):
    # K = 49 as in production; with a short curve (K = 10) kneed's normalised elbow tends to sit
    # one or two k early on many clusters, so the test uses the real K.
    elbow = seg.compute_elbow(blobs(n_clusters, n=120 * n_clusters), max_k=49, source="blobs")
    assert elbow.found
    assert elbow.k == n_clusters


def test_elbow_on_blobs_through_the_whole_pipeline_with_k_49():
    X = blobs(5, n=1000, seed=3) * [5000.0, 20000.0, 30000.0]  # original units; MinMax brings them back
    df = pd.DataFrame(X, columns=["BALANCE", "PURCHASES", "CREDIT_LIMIT"])
    result = seg.segment_customers(df, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"], max_k=49, source="blobs")
    assert result.elbow.k == 5
    assert seg.model_k(result.model) == 5
    assert sorted(result.profiles["customers"]) == [200] * 5


def test_sse_is_non_increasing_in_k():
    for X in (blobs(4), np.random.RandomState(1).uniform(size=(500, 3))):
        sse = seg.sse_sweep(X, 30)
        assert len(sse) == 30
        assert all(b <= a for a, b in zip(sse, sse[1:])), sse
        assert sse[0] == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())


def test_sse_sweep_with_fewer_distinct_rows_than_k_stays_at_zero():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), 5, axis=0)
    sse = seg.sse_sweep(X, 8)
    assert sse[2] == pytest.approx(0.0, abs=1e-12)
    assert sse[3:] == [0.0] * 5


def test_no_elbow_falls_back_to_one_segment():
    assert seg.find_elbow([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]) == (1, False)
    assert seg.find_elbow([1, 2], [4.0, 1.0]) == (1, False)


def test_max_k_reduction_rules():
    assert seg.effective_max_k(100, 49, "x", reduce=False) == 49
    assert seg.effective_max_k(49, 49, "x", reduce=False) == 49
    assert seg.effective_max_k(10, 49, "x", reduce=True) == 9
    assert seg.effective_max_k(1, 49, "x", reduce=True) == 1
    with pytest.raises(seg.SegmentationInputError, match=r"file.csv: 10 customers .* fewer than max_k=49"):
        seg.effective_max_k(10, 49, "file.csv", reduce=False)


def test_same_input_gives_same_k_model_and_assignments():
    df = pd.DataFrame(blobs(4, seed=5), columns=["a", "b", "c"])
    first = seg.segment_customers(df, ["a", "b", "c"], 25, "x")
    second = seg.segment_customers(df, ["a", "b", "c"], 25, "x")
    assert first.elbow == second.elbow
    np.testing.assert_array_equal(first.model.named_steps["kmeans"].cluster_centers_, second.model.named_steps["kmeans"].cluster_centers_)
    pd.testing.assert_frame_equal(first.assignments, second.assignments)


# --- missing values and validation ----------------------------------------------------------------


def test_rows_with_blanks_are_not_fitted_but_get_a_segment(sample_customers):
    df = sample_customers.dropna(subset=list(seg.DEFAULT_CC_FEATURES)).reset_index(drop=True)
    df.loc[[0, 1], "CREDIT_LIMIT"] = np.nan
    X = seg.feature_matrix(df, seg.DEFAULT_CC_FEATURES, "x")
    prep = seg.fit_preprocessor(X, "x")
    # The scaler was fit without the blank rows.
    assert prep.named_steps["scale"].n_samples_seen_ == len(df) - 2
    assert prep.named_steps["impute"].statistics_[2] == pytest.approx(df["CREDIT_LIMIT"].iloc[2:].median())
    result = seg.segment_customers(df, seg.DEFAULT_CC_FEATURES, 10, "x")
    assert result.fit_rows == len(df) - 2
    assert result.assignments.loc[[0, 1], "n_imputed"].tolist() == [1, 1]
    assert result.assignments["n_imputed"].iloc[2:].eq(0).all()
    assert result.assignments["segment"].between(0, result.elbow.k - 1).all()
    # Profiles count every customer; means use observed values only.
    assert result.profiles["customers"].sum() == len(df)
    blank_segment = result.assignments.loc[0, "segment"]
    assert result.profiles.loc[blank_segment, "mean_CREDIT_LIMIT"] == pytest.approx(
        df.loc[result.assignments["segment"] == blank_segment, "CREDIT_LIMIT"].mean()
    )


def test_missing_feature_column_names_source_and_column(sample_customers):
    with pytest.raises(seg.SegmentationInputError, match=r"file.csv: missing feature column\(s\) \['NOPE'\]"):
        seg.feature_matrix(sample_customers, ["BALANCE", "NOPE"], "file.csv")


def test_all_empty_feature_column_is_an_error(sample_customers):
    df = sample_customers.assign(PURCHASES=np.nan)
    with pytest.raises(seg.SegmentationInputError, match="feature column PURCHASES is empty"):
        seg.feature_matrix(df, seg.DEFAULT_CC_FEATURES, "file.csv")


def test_load_cc_customers_rejects_a_missing_column(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.drop(columns=["CREDIT_LIMIT"]))
    with pytest.raises(seg.SegmentationInputError, match=r"file.csv: missing column\(s\) \['CREDIT_LIMIT'\]"):
        seg.load_cc_customers(folder / "file.csv")


def test_load_cc_customers_rejects_an_all_empty_column(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.assign(BALANCE=""))
    with pytest.raises(seg.SegmentationInputError, match=r"file.csv: column BALANCE is empty"):
        seg.load_cc_customers(folder / "file.csv")


def test_load_cc_customers_names_a_non_numeric_value_and_its_line(tmp_path, sample_customers):
    df = sample_customers.astype({"PURCHASES": object})
    df.loc[4, "PURCHASES"] = "12,5x"
    folder = write_cc(tmp_path / "cc", df)
    with pytest.raises(seg.SegmentationInputError, match=r"column PURCHASES has 1 non-numeric values, e.g. \[\"line 6: '12,5x'\"\]"):
        seg.load_cc_customers(folder / "file.csv")


def test_load_cc_customers_rejects_duplicated_ids(tmp_path, sample_customers):
    df = sample_customers.copy()
    df.loc[3, "CUST_ID"] = df.loc[2, "CUST_ID"]
    folder = write_cc(tmp_path / "cc", df)
    with pytest.raises(seg.SegmentationInputError, match="CUST_ID has 1 duplicated ids"):
        seg.load_cc_customers(folder / "file.csv")


def test_fewer_customers_than_k_is_an_error_naming_the_file(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.head(20))
    with pytest.raises(seg.SegmentationInputError, match=r"file.csv: 20 customers with all features, fewer than max_k=49"):
        seg.run_cc_segmentation(folder)


def test_test_csv_with_other_columns_is_an_error(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers, "BALANCE,PURCHASES,PAYMENTS\n1,2,3")
    with pytest.raises(seg.SegmentationInputError, match=r"test.csv: .*missing \['CREDIT_LIMIT'\], unexpected \['PAYMENTS'\]"):
        seg.load_cc_test(folder / "test.csv", seg.DEFAULT_CC_FEATURES)


def test_test_csv_columns_in_another_order_are_accepted(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("CREDIT_LIMIT,BALANCE,PURCHASES\n1000,20,3")
    test = seg.load_cc_test(path, seg.DEFAULT_CC_FEATURES)
    assert test.loc[0, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]].tolist() == [20.0, 3.0, 1000.0]
    assert test.loc[0, "CUST_ID"] == "TEST-1"


# --- the real CC GENERAL data ----------------------------------------------------------------------


def test_real_data_elbow_is_computed_and_stable(real_run, cc_general_dir):
    assert real_run.elbow.found
    assert real_run.elbow.max_k == 49
    assert real_run.fit_rows == 8949  # one blank CREDIT_LIMIT is not fitted
    assert 3 <= real_run.elbow.k <= 15
    assert all(b <= a for a, b in zip(real_run.elbow.sse, real_run.elbow.sse[1:]))
    again = seg.run_cc_segmentation(cc_general_dir)
    assert again.elbow == real_run.elbow
    pd.testing.assert_frame_equal(again.assignments, real_run.assignments)


def test_real_test_customer_gets_a_segment(real_run):
    test = real_run.extras["test"]
    assert len(test) == 1
    assert test.loc[0, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]].tolist() == [3202.467416, 124.5, 241514.0]
    assert 0 <= test.loc[0, "segment"] < real_run.elbow.k
    # Its credit limit is eight times the largest seen when fitting: worth saying.
    assert seg.outside_training_range(real_run.model, test).iloc[0] == ["CREDIT_LIMIT"]


def test_real_profiles_cover_every_customer_in_original_units(real_run):
    profiles = real_run.profiles
    assert len(profiles) == real_run.elbow.k
    assert profiles["customers"].sum() == 8950
    assert (profiles["customers"] > 0).all()
    # A size-weighted mean of segment means is the overall mean (original units, not scaled).
    weighted = (profiles["mean_BALANCE"] * profiles["customers"]).sum() / profiles["customers"].sum()
    assert weighted == pytest.approx(1564.474828, rel=1e-6)


def test_saved_model_has_the_elbow_k_and_a_matching_manifest(real_run, tmp_path):
    path = tmp_path / "segmentation" / "cc_kmeans.joblib"
    manifest = seg.save_model(real_run.model, real_run.elbow, path)
    assert manifest["k"] == manifest["elbow_k"] == real_run.elbow.k
    assert manifest["sha256"] == seg.sha256_file(path)
    bundle = seg.load_model(path)
    assert bundle["k"] == real_run.elbow.k
    assert bundle["features"] == list(seg.DEFAULT_CC_FEATURES)
    np.testing.assert_array_equal(bundle["model"].predict(real_run.extras["test"][bundle["features"]]), real_run.extras["test"]["segment"])
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ValueError, match="does not match its manifest"):
        seg.load_model(path)


def test_elbow_plot_is_a_png(real_run, tmp_path):
    png = seg.elbow_plot_png(real_run.elbow, "t", tmp_path / "elbow.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "elbow.png").read_bytes() == png


# --- loan book helpers -----------------------------------------------------------------------------


def test_stability_ari_is_one_against_the_same_model_and_lower_against_another():
    df = pd.DataFrame(blobs(4, seed=2), columns=["a", "b", "c"])
    result = seg.segment_customers(df, ["a", "b", "c"], 15, "x", reduce_k=True)
    assert seg.stability_ari(result.model, result.model, df, "x") == pytest.approx(1.0)
    assert seg.stability_ari(None, result.model, df, "x") is None
    other = seg.segment_customers(pd.DataFrame(blobs(2, seed=9), columns=["a", "b", "c"]), ["a", "b", "c"], 15, "x")
    assert seg.stability_ari(other.model, result.model, df, "x") < 0.9


def test_flagged_out_of_range_values_count_as_missing():
    rows = pd.DataFrame({"a": [1.0, 2.0, 1e9], "b": [1.0, 2.0, 3.0],
                         "dq_flags": [[], None, ["a:out_of_range", "b:placeholder"]]})
    out = seg.mask_flagged_out_of_range(rows, ["a", "b"])
    assert out["a"].isna().tolist() == [False, False, True]
    assert out["b"].tolist() == [1.0, 2.0, 3.0]
    assert rows["a"].iloc[2] == 1e9  # input untouched


def test_month_rows_keeps_rows_dated_in_the_month():
    df = pd.DataFrame({"Customer_ID": ["a", "b", "c"], "snapshot_date": pd.to_datetime(["2023-01-01", "2023-01-31", "2023-02-01"]).date})
    assert seg.month_rows(df, "2023-01-01", "x")["Customer_ID"].tolist() == ["a", "b"]
    with pytest.raises(seg.SegmentationInputError, match=r"missing column\(s\) \['snapshot_date'\]"):
        seg.month_rows(df.drop(columns=["snapshot_date"]), "2023-01-01", "silver")


def test_empty_and_full_months_write_the_same_schema():
    features = ["a", "b"]
    rows = pd.DataFrame({"Customer_ID": ["x", "y", "z", "w"], "snapshot_date": pd.to_datetime(["2023-01-02"] * 4).date,
                         "a": [0.0, 0.1, 5.0, 5.1], "b": [0.0, 0.1, 5.0, 5.2]})
    result = seg.segment_customers(rows, features, 49, "x", reduce_k=True)
    assert result.elbow.max_k == 3  # 4 rows: K lowered to n - 1
    full = seg.loan_book_segments_frame(rows, result, features, "2023-01-01")
    empty = seg.loan_book_segments_frame(rows.iloc[:0], None, features, "2023-02-01")
    assert len(empty) == 0
    assert pa.Schema.from_pandas(full, preserve_index=False) == pa.Schema.from_pandas(empty, preserve_index=False)
    assert pa.Schema.from_pandas(full, preserve_index=False).field("snapshot_date").type == pa.date32()


def test_markdown_table():
    md = seg.markdown_table(pd.DataFrame({"k": [1], "v": [1234.5], "n": [None], "l": [["A", "B"]]}))
    assert md.splitlines() == ["| k | v | n | l |", "|---|---|---|---|", "| 1 | 1,234.50 |  | A, B |"]


# --- the CC sample generator -----------------------------------------------------------------------


def test_generator_is_deterministic_and_has_the_real_layout(tmp_path):
    counts = cc_generator.generate_cc_general(tmp_path / "a")
    cc_generator.generate_cc_general(tmp_path / "b")
    for name in ("file.csv", "test.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert counts == {"customers": 8950, "test_customers": 1, "blank_minimum_payments": 313, "blank_credit_limit": 1}
    customers = seg.load_cc_customers(tmp_path / "a" / "file.csv")
    assert tuple(customers.columns) == seg.CC_COLUMNS
    assert customers["CUST_ID"].iloc[0] == "C10001"
    assert customers["MINIMUM_PAYMENTS"].isna().mean() == pytest.approx(0.035, abs=0.001)
    assert customers["CREDIT_LIMIT"].isna().sum() == 1
    freq = [c for c in seg.CC_COLUMNS if c.endswith("FREQUENCY") or c == "PRC_FULL_PAYMENT"]
    assert customers[freq].min().min() >= 0 and customers[freq].max().max() <= 1
    assert (customers["ONEOFF_PURCHASES"] + customers["INSTALLMENTS_PURCHASES"] - customers["PURCHASES"]).abs().max() < 1e-5
    assert customers["TENURE"].between(6, 12).all()
    test_bytes = (tmp_path / "a" / "test.csv").read_bytes()
    assert test_bytes.startswith(b"BALANCE,PURCHASES,CREDIT_LIMIT\n")
    assert not test_bytes.endswith(b"\n") and test_bytes.count(b"\n") == 1


def test_generator_seed_changes_the_data_and_segments_are_found(tmp_path):
    cc_generator.generate_cc_general(tmp_path / "s1", customers=3000, seed=1)
    cc_generator.generate_cc_general(tmp_path / "s2", customers=3000, seed=2)
    assert (tmp_path / "s1" / "file.csv").read_bytes() != (tmp_path / "s2" / "file.csv").read_bytes()
    result = seg.run_cc_segmentation(tmp_path / "s1")
    assert result.elbow.found and result.elbow.k >= 3
    assert result.extras["test"]["segment"].between(0, result.elbow.k - 1).all()


def test_generator_cli(tmp_path, capsys):
    cc_generator.main(["--out", str(tmp_path / "cli"), "--customers", "120", "--seed", "3"])
    assert '"customers": 120' in capsys.readouterr().out
    assert len(seg.load_cc_customers(tmp_path / "cli" / "file.csv")) == 120
