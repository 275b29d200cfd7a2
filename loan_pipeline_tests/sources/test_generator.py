"""The sample-data generator: the real layout, determinism, the real dirty values at their rates,
labels a model can learn, the deliberate later profile refreshes, and the scale knob."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loan_pipeline.sources.generator import generate, generate_loan_book
from loan_pipeline.sources.generator.cli import main
from loan_pipeline.sources.schemas import (
    ATTRIBUTES,
    CLICKSTREAM,
    CLICKSTREAM_FEATURES,
    CREDIT_MIX,
    FINANCIALS,
    LMS,
    LOAN_TYPES,
    OCCUPATIONS,
    PAYMENT_BEHAVIOURS,
    PAYMENT_OF_MIN_AMOUNT,
    SOURCES,
)

SMALL = 600  # customers in the quick runs


def read_text(folder: Path, contract) -> pd.DataFrame:
    """A raw extract as text, exactly as written (no NA guessing)."""
    return pd.read_csv(folder / contract.file_name, dtype=str, keep_default_na=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def number(text: pd.Series) -> pd.Series:
    """Numeric value of a raw column, ignoring trailing/leading underscores; placeholders -> NaN."""
    return pd.to_numeric(text.str.strip("_"), errors="coerce")


def history_months(text: pd.Series) -> pd.Series:
    parts = text.str.extract(r"^(\d+) Years and (\d+) Months$").astype(float)
    return parts[0] * 12 + parts[1]


def labels_at_mob(lms: pd.DataFrame, mob: int = 6, dpd_threshold: int = 30) -> pd.Series:
    """label per Customer_ID: dpd >= threshold at installment `mob`, with months missed =
    ceil(overdue / due) and dpd = days from the first missed due date (snapshot - missed months)."""
    rows = lms[lms["installment_num"] == mob]
    missed = np.ceil(rows["overdue_amt"] / rows["due_amt"]).astype(int)
    snapshot = pd.to_datetime(rows["snapshot_date"])
    first_missed = (snapshot.dt.to_period("M") - missed).dt.to_timestamp()
    dpd = np.where(missed > 0, (snapshot - first_missed).dt.days, 0)
    return pd.Series(dpd >= dpd_threshold, index=rows["Customer_ID"].to_numpy()).astype(int)


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory) -> Path:
    """The one run at full default size (12,500 customers, a second or two)."""
    out = tmp_path_factory.mktemp("full")
    generate_loan_book(out)
    return out


@pytest.fixture(scope="module")
def full(full_dir) -> dict[str, pd.DataFrame]:
    frames = {name: read_text(full_dir, c) for name, c in SOURCES.items() if name in ("attributes", "financials")}
    # LMS and clickstream are all plain numbers: read them typed
    frames["lms"] = pd.read_csv(full_dir / LMS.file_name)
    frames["clickstream"] = pd.read_csv(full_dir / CLICKSTREAM.file_name)
    return frames


@pytest.fixture(scope="module")
def real(cs611_dir) -> dict[str, pd.DataFrame]:
    return {"attributes": read_text(cs611_dir, ATTRIBUTES), "financials": read_text(cs611_dir, FINANCIALS)}


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small")
    return out, generate_loan_book(out, customers=SMALL)


# --------------------------------------------------------------------------------------------- layout


def test_headers_equal_the_real_files(full_dir, cs611_dir):
    for contract in SOURCES.values():
        with open(cs611_dir / contract.file_name) as fh:
            real_header = fh.readline()
        with open(full_dir / contract.file_name) as fh:
            generated_header = fh.readline()
        assert generated_header == real_header, contract.file_name
        assert generated_header.rstrip("\n").split(",") == list(contract.columns)


def test_row_counts_and_calendar(small_dir):
    out, counts = small_dir
    lms = pd.read_csv(out / LMS.file_name)
    attributes = read_text(out, ATTRIBUTES)
    clicks = read_text(out, CLICKSTREAM)
    assert counts == {c.file_name: len(read_text(out, c)) for c in SOURCES.values()}
    assert counts[LMS.file_name] == 11 * SMALL
    assert lms["loan_id"].nunique() == lms["Customer_ID"].nunique() == SMALL
    assert attributes["Customer_ID"].nunique() == SMALL
    assert sorted(lms["installment_num"].unique()) == list(range(11))
    assert lms.groupby("loan_id")["installment_num"].apply(tuple).map(lambda t: t == tuple(range(11))).all()
    starts = sorted(lms["loan_start_date"].unique())
    assert len(starts) == 25 and starts[0] == "2023-01-01" and starts[-1] == "2025-01-01"
    assert lms["snapshot_date"].max() == "2025-11-01"
    # snapshot = loan start + installment months
    expected = (pd.to_datetime(lms["loan_start_date"]).dt.to_period("M") + lms["installment_num"]).dt.strftime("%Y-%m-01")
    assert (lms["snapshot_date"] == expected).all()
    # clickstream: the same ~72% of customers in each of the first 24 calendar months
    months = sorted(clicks["snapshot_date"].unique())
    assert len(months) == 24 and months[0] == "2023-01-01" and months[-1] == "2024-12-01"
    per_month = clicks.groupby("snapshot_date")["Customer_ID"].apply(frozenset)
    assert per_month.nunique() == 1
    assert abs(len(per_month.iloc[0]) / SMALL - 8974 / 12500) < 0.06


def test_ids_look_like_the_real_ones(small_dir):
    out, _ = small_dir
    lms = pd.read_csv(out / LMS.file_name)
    assert lms["Customer_ID"].str.fullmatch(r"CUS_0x[0-9a-f]{3,}").all()
    assert (lms["loan_id"] == lms["Customer_ID"] + "_" + lms["loan_start_date"].str.replace("-", "_")).all()
    assert set(read_text(out, CLICKSTREAM)["Customer_ID"]) <= set(lms["Customer_ID"])


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name in ("a", "b"):
        generate_loan_book(tmp_path / name, customers=300, seed=7)
    generate_loan_book(tmp_path / "c", customers=300, seed=8)
    for contract in SOURCES.values():
        assert sha256(tmp_path / "a" / contract.file_name) == sha256(tmp_path / "b" / contract.file_name)
        assert sha256(tmp_path / "a" / contract.file_name) != sha256(tmp_path / "c" / contract.file_name)


def test_start_month_must_be_a_first_of_month(tmp_path):
    with pytest.raises(ValueError, match="first of a month"):
        generate_loan_book(tmp_path, customers=10, start_month="2023-01-15")


# ------------------------------------------------------------------------------------------ LMS rows


def test_lms_amounts_are_consistent_like_the_real_file(full):
    lms = full["lms"].sort_values(["loan_id", "installment_num"])
    assert (lms["tenure"] == 10).all() and (lms["loan_amt"] == 10000).all()
    assert (lms.loc[lms["installment_num"] == 0, "due_amt"] == 0).all()
    assert (lms.loc[lms["installment_num"] > 0, "due_amt"] == 1000).all()
    cum_due = lms.groupby("loan_id")["due_amt"].cumsum()
    cum_paid = lms.groupby("loan_id")["paid_amt"].cumsum()
    assert np.allclose(lms["overdue_amt"], cum_due - cum_paid)
    assert np.allclose(lms["balance"], lms["loan_amt"] - cum_paid)
    # catch-up payments clear arrears, up to the real maximum of 4000
    assert set(lms["paid_amt"].unique()) == {0.0, 1000.0, 2000.0, 3000.0, 4000.0}
    assert (lms["overdue_amt"] >= 0).all()


def test_label_rate_is_in_range(full):
    labels = labels_at_mob(full["lms"])
    assert len(labels) == 12500
    assert 0.25 <= labels.mean() <= 0.30


# ------------------------------------------------------------------------------------ dirty values

# Each dirty kind the reference README lists, as a row detector over the raw text.
DIRTY_KINDS = {
    "Age trailing _": ("attributes", lambda a: a["Age"].str.endswith("_")),
    "Age out of range": ("attributes", lambda a: ~number(a["Age"]).between(14, 56)),
    "SSN placeholder": ("attributes", lambda a: a["SSN"] == "#F%$D@*&8"),
    "Occupation placeholder": ("attributes", lambda a: a["Occupation"] == "_______"),
    "Annual_Income trailing _": ("financials", lambda f: f["Annual_Income"].str.endswith("_")),
    "Annual_Income extreme": ("financials", lambda f: number(f["Annual_Income"]) > 180_000),
    "Num_of_Loan trailing _": ("financials", lambda f: f["Num_of_Loan"].str.endswith("_")),
    "Num_of_Loan negative": ("financials", lambda f: number(f["Num_of_Loan"]) < 0),
    "Num_of_Loan extreme": ("financials", lambda f: number(f["Num_of_Loan"]) > 9),
    "Num_of_Delayed_Payment trailing _": ("financials", lambda f: f["Num_of_Delayed_Payment"].str.endswith("_")),
    "Num_of_Delayed_Payment out of range": ("financials", lambda f: ~number(f["Num_of_Delayed_Payment"]).between(0, 28)),
    "Outstanding_Debt trailing _": ("financials", lambda f: f["Outstanding_Debt"].str.endswith("_")),
    "Changed_Credit_Limit _": ("financials", lambda f: f["Changed_Credit_Limit"] == "_"),
    "Credit_Mix _": ("financials", lambda f: f["Credit_Mix"] == "_"),
    "Amount_invested_monthly __10000__": ("financials", lambda f: f["Amount_invested_monthly"] == "__10000__"),
    "Payment_Behaviour !@9#%8": ("financials", lambda f: f["Payment_Behaviour"] == "!@9#%8"),
    "Payment_of_Min_Amount NM": ("financials", lambda f: f["Payment_of_Min_Amount"] == "NM"),
    "Type_of_Loan empty": ("financials", lambda f: f["Type_of_Loan"] == ""),
    "Num_Bank_Accounts out of range": ("financials", lambda f: ~number(f["Num_Bank_Accounts"]).between(0, 11)),
    "Num_Credit_Card extreme": ("financials", lambda f: number(f["Num_Credit_Card"]) > 11),
    "Interest_Rate extreme": ("financials", lambda f: number(f["Interest_Rate"]) > 34),
    "Num_Credit_Inquiries extreme": ("financials", lambda f: number(f["Num_Credit_Inquiries"]) > 17),
    "Total_EMI_per_month extreme": ("financials", lambda f: number(f["Total_EMI_per_month"]) > 2000),
}


@pytest.mark.parametrize("kind", sorted(DIRTY_KINDS))
def test_dirty_value_kind_at_the_real_rate(kind, full, real):
    table, detect = DIRTY_KINDS[kind]
    real_rate = detect(real[table]).mean()
    generated_rate = detect(full[table]).mean()
    assert real_rate > 0, "the detector must find the kind in the real extract"
    assert abs(generated_rate - real_rate) <= max(0.004, 0.15 * real_rate), (kind, generated_rate, real_rate)


def test_extreme_values_span_the_real_ranges(full, real):
    for table, column in [
        ("attributes", "Age"), ("financials", "Num_Bank_Accounts"), ("financials", "Num_Credit_Card"),
        ("financials", "Interest_Rate"), ("financials", "Num_of_Loan"), ("financials", "Num_Credit_Inquiries"),
        ("financials", "Num_of_Delayed_Payment"),
    ]:
        generated, reference = number(full[table][column]), number(real[table][column])
        assert generated.min() >= reference.min() and generated.max() <= reference.max(), column
        assert generated.max() >= 0.8 * reference.max(), column
    assert number(full["attributes"]["Age"]).min() == -500
    assert number(full["financials"]["Num_of_Loan"]).min() == -100
    balance = full["financials"]["Monthly_Balance"]
    assert (balance == "__-333333333333333333333333333__").sum() == 1


def test_values_use_the_contract_vocabularies_and_real_formats(full):
    a, f = full["attributes"], full["financials"]
    assert set(a["Occupation"]) == set(OCCUPATIONS) | {"_______"}
    assert set(f["Credit_Mix"]) == set(CREDIT_MIX) | {"_"}
    assert set(f["Payment_of_Min_Amount"]) == set(PAYMENT_OF_MIN_AMOUNT)
    assert set(f["Payment_Behaviour"]) == set(PAYMENT_BEHAVIOURS) | {"!@9#%8"}
    assert (a["SSN"].str.fullmatch(r"\d{3}-\d{2}-\d{4}") | (a["SSN"] == "#F%$D@*&8")).all()
    assert a["Name"].str.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)?").all()
    assert history_months(f["Credit_History_Age"]).notna().all()
    for column in ("snapshot_date",):
        assert f[column].str.fullmatch(r"\d{4}-\d{2}-01").all() and a[column].str.fullmatch(r"\d{4}-\d{2}-01").all()


def test_type_of_loan_lists_match_the_loan_count(full):
    f = full["financials"]
    listed = f["Type_of_Loan"].map(lambda s: [] if s == "" else s.replace(", and ", ", ").split(", "))
    assert {t for types in listed for t in types} == set(LOAN_TYPES)
    # the real phrasing: "A", "A, and B", "A, B, and C"
    many = f.loc[listed.map(len) >= 2, "Type_of_Loan"]
    assert many.str.contains(", and ").all()
    count = number(f["Num_of_Loan"])
    clean = count.between(0, 9)
    assert (listed[clean].map(len) == count[clean]).all()
    # and the CSV quotes exactly those values that hold a comma
    assert f["Type_of_Loan"].str.contains(",").sum() == len(many)


def test_clickstream_values_resemble_the_real_ones(full):
    values = full["clickstream"][list(CLICKSTREAM_FEATURES)]
    assert all(pd.api.types.is_integer_dtype(t) for t in values.dtypes)
    assert values.to_numpy().min() > -700 and values.to_numpy().max() < 900
    assert np.allclose(values.mean(), 100, atol=25)
    assert np.allclose(values.std(), 100, atol=10)


# ------------------------------------------------------------------------------- label and features


def application_table(full: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """First (application-time) financials row per customer with its label and start month."""
    lms = full["lms"]
    starts = lms.loc[lms["installment_num"] == 0].set_index("Customer_ID")["loan_start_date"]
    f = full["financials"].sort_values(["Customer_ID", "snapshot_date"]).drop_duplicates("Customer_ID")
    f = f.set_index("Customer_ID")
    clicks = full["clickstream"]
    f["fe_5_mean"] = clicks.groupby("Customer_ID")["fe_5"].mean()
    f["fe_10_mean"] = clicks.groupby("Customer_ID")["fe_10"].mean()
    f["label"] = labels_at_mob(lms)
    f["start"] = starts
    return f


def raw_feature_matrix(f: pd.DataFrame) -> pd.DataFrame:
    """A few raw features, minimally cleaned: numbers parsed and capped, categories one-hot."""
    x = pd.DataFrame(index=f.index)
    for column, cap in [("Interest_Rate", 34), ("Delay_from_due_date", 67), ("Num_of_Delayed_Payment", 28),
                        ("Num_Credit_Inquiries", 17)]:
        x[column] = number(f[column]).clip(0, cap)
    x["debt_to_salary"] = number(f["Outstanding_Debt"]) / number(f["Monthly_Inhand_Salary"])
    x["history_months"] = history_months(f["Credit_History_Age"])
    x["fe_5_mean"], x["fe_10_mean"] = f["fe_5_mean"], f["fe_10_mean"]
    x = x.fillna(x.median())
    categories = pd.get_dummies(f[["Credit_Mix", "Payment_of_Min_Amount"]], dtype=float)
    return pd.concat([x, categories], axis=1)


def test_label_depends_on_application_features(full):
    f = application_table(full)
    x, y = raw_feature_matrix(f), f["label"]
    train = f["start"] < "2024-07-01"  # temporal split, as the pipeline does
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x[train], y[train])
    auc = roc_auc_score(y[~train], model.predict_proba(x[~train])[:, 1])
    assert auc > 0.7
    by_mix = y.groupby(f["Credit_Mix"]).mean()
    assert by_mix["Bad"] > by_mix["Standard"] > by_mix["Good"]


def test_later_start_months_drift_riskier(full):
    f = application_table(full)
    early, late = f["start"] < "2023-07-01", f["start"] >= "2024-07-01"
    assert f.loc[late, "label"].mean() - f.loc[early, "label"].mean() > 0.03
    rate = number(f["Interest_Rate"]).clip(1, 34)
    assert rate[late].mean() > rate[early].mean() + 0.5


# --------------------------------------------------------------------------------- profile refreshes


def test_later_profile_refreshes_exist_and_are_dated_after_the_loan_start(full):
    lms = full["lms"]
    starts = lms.loc[lms["installment_num"] == 0].set_index("Customer_ID")["loan_start_date"]
    for table in ("attributes", "financials"):
        rows = full[table]
        first = rows.groupby("Customer_ID")["snapshot_date"].min()
        assert (first == starts.reindex(first.index)).all(), table  # every customer has its application row
        later = rows[rows["snapshot_date"] != rows["Customer_ID"].map(starts)]
        assert 0.04 <= later["Customer_ID"].nunique() / len(starts) <= 0.06, table
        assert (later["snapshot_date"] > later["Customer_ID"].map(starts)).all(), table
        assert not rows.duplicated(["Customer_ID", "snapshot_date"]).any(), table
    same = full["attributes"][["Customer_ID", "snapshot_date"]].equals(full["financials"][["Customer_ID", "snapshot_date"]])
    assert same
    # a refresh updates the profile, not the person or the loans held
    assert full["attributes"].groupby("Customer_ID")["Name"].nunique().max() == 1
    assert full["financials"].groupby("Customer_ID")["Type_of_Loan"].nunique().max() == 1


def test_refreshes_carry_post_application_information(full):
    """A refresh of a defaulter shows more delayed payments: leaking it into features would help a
    model, which is exactly what the downstream time contract must prevent."""
    f = full["financials"].sort_values(["Customer_ID", "snapshot_date"])
    delayed = number(f["Num_of_Delayed_Payment"]).clip(0, 28)
    change = delayed.groupby(f["Customer_ID"]).agg(lambda s: s.iloc[-1] - s.iloc[0])
    refreshed = f["Customer_ID"].value_counts().loc[lambda c: c > 1].index
    labels = labels_at_mob(full["lms"])
    change = change.loc[refreshed]
    assert change[labels.loc[refreshed] == 1].mean() > change[labels.loc[refreshed] == 0].mean() + 2


# ------------------------------------------------------------------------------------- CLI and writes


def test_scale_multiplies_customers(tmp_path):
    main(["--out", str(tmp_path / "one"), "--customers", "40", "--months", "6"])
    main(["--out", str(tmp_path / "four"), "--customers", "40", "--months", "6", "--scale", "4"])
    one, four = pd.read_csv(tmp_path / "one" / LMS.file_name), pd.read_csv(tmp_path / "four" / LMS.file_name)
    assert len(one) == 40 * 11 and len(four) == 160 * 11
    assert one["loan_start_date"].nunique() == 6
    assert read_text(tmp_path / "four", ATTRIBUTES)["Customer_ID"].nunique() == 160


def test_a_failed_write_leaves_the_previous_file_and_no_temp_file(tmp_path, monkeypatch):
    generate_loan_book(tmp_path, customers=50)
    before = {c.file_name: sha256(tmp_path / c.file_name) for c in SOURCES.values()}

    def dies_half_way(fh, header, blocks):
        fh.write(b"loan_id,Customer_ID\nCUS_0x1")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(generate, "write_csv", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        generate_loan_book(tmp_path, customers=80, seed=1)
    assert {c.file_name: sha256(tmp_path / c.file_name) for c in SOURCES.values()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)
