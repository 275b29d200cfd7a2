"""Training: temporal splits, the time contract, preprocessing fit on train only, selection and promotion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_pipeline.features import CATEGORICAL_FEATURES, LABEL_COLUMNS, MODEL_FEATURES, NUMERIC_FEATURES
from loan_pipeline.transforms import training as T
from loan_pipeline.transforms.model_store import ModelStore


def month_keys(first: str, last: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="MS")]


def make_gold(first="2023-01-01", last="2024-12-01", per_month=150, seed=0, mob=6, shift_after: str | None = None):
    """Gold-like frames (gold_features, gold_labels) with a learnable default signal.

    `shift_after`: from this application month on, Interest_Rate is shifted (drift for PSI tests)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in month_keys(first, last):
        n = per_month
        f = {c: rng.normal(0, 1, n) for c in NUMERIC_FEATURES}
        f["Interest_Rate"] = rng.normal(15, 5, n) + (10 if shift_after and m >= shift_after else 0)
        f["Occupation"] = rng.choice(["Lawyer", "Doctor", "Writer", None], n)
        f["Credit_Mix"] = rng.choice(["Bad", "Standard", "Good"], n)
        f["Payment_of_Min_Amount"] = rng.choice(["Yes", "No", "NM"], n)
        f["Payment_Behaviour"] = rng.choice(["Low_spent_Small_value_payments", None], n)
        frame = pd.DataFrame(f)
        frame.loc[rng.random(n) < 0.1, "Age"] = np.nan  # something to impute
        frame["loan_id"] = [f"L{m[:7]}-{i}" for i in range(n)]
        frame["Customer_ID"] = [f"C{m[:7]}-{i}" for i in range(n)]
        frame["application_date"] = pd.Timestamp(m).date()
        frame["month"] = m
        rows.append(frame)
    features = pd.concat(rows, ignore_index=True)
    logit = 1.5 * features["Credit_History_Months"] - 1.0 * features["loan_amt"] + (features["Credit_Mix"] == "Bad") * 1.5 - 0.5
    p = 1 / (1 + np.exp(-logit))
    label = (rng.random(len(features)) < p).astype(int)
    label_month = (pd.to_datetime(features["month"]) + pd.DateOffset(months=mob)).dt.strftime("%Y-%m-%d")
    labels = pd.DataFrame(
        {
            "loan_id": features["loan_id"], "Customer_ID": features["Customer_ID"],
            "application_month": features["month"], "label_month": label_month, "mob": mob,
            "dpd": np.where(label == 1, 45, 0), "label": label, "label_definition": f"dpd30_mob{mob}",
        }
    )
    labels["month"] = labels["label_month"]
    for c in CATEGORICAL_FEATURES:
        features[c] = features[c].astype(object)
    return features[["loan_id", "Customer_ID", "application_date", *MODEL_FEATURES, "month"]], labels[[*LABEL_COLUMNS, "month"]]


def test_split_windows_are_ordered_disjoint_and_match_the_real_data_calendar():
    months = month_keys("2023-01-01", "2025-01-01")  # labelled application months of the CS611 extract
    w = T.split_windows(months, T.TrainingPolicy())
    assert w.bounds() == {"train": "2023-01..2024-03", "validation": "2024-04..2024-07", "test": "2024-08..2024-10", "oot": "2024-11..2025-01"}
    seq = [*w.train, *w.validation, *w.test, *w.oot]
    assert seq == sorted(seq) and len(seq) == len(set(seq)) == len(months)
    assert T.split_windows(months[:15], T.TrainingPolicy()) is None  # 16 months needed
    capped = T.split_windows(months, T.TrainingPolicy(max_train_months=6))
    assert capped.train == tuple(months[9:15])


def test_labelled_frame_uses_only_labels_observable_before_the_model_month():
    features, labels = make_gold(per_month=20)
    frame = T.labelled_frame(features, labels, "2024-07-01")
    assert (frame["label_month"] < "2024-07-01").all()
    assert frame["application_month"].max() == "2023-12-01"  # mob 6: label of Dec-23 became known in Jun-24
    assert len(frame) == (labels["label_month"] < "2024-07-01").sum()


def test_preprocessing_is_fit_on_the_train_split_only():
    features, labels = make_gold(per_month=60)
    frame = T.labelled_frame(features, labels, "2024-12-01")
    w = T.split_windows(frame["application_month"].unique(), T.TrainingPolicy())
    candidates, _ = T.train_candidates(frame, w, T.TrainingPolicy())
    train = frame[frame["application_month"].isin(w.train)]
    numeric = [c for c in MODEL_FEATURES if c not in CATEGORICAL_FEATURES]
    for cand in candidates:
        imputer = cand.pipeline.named_steps["preprocess"].named_transformers_["num"].named_steps["impute"]
        np.testing.assert_allclose(imputer.statistics_, train[numeric].median().to_numpy())
        scaler = cand.pipeline.named_steps["preprocess"].named_transformers_["num"].named_steps["scale"]
        np.testing.assert_allclose(scaler.mean_, train[numeric].fillna(train[numeric].median()).mean().to_numpy(), rtol=1e-9)
        # the saved Pipeline reproduces the scores the candidate was evaluated with
        oot = frame[frame["application_month"].isin(w.oot)]
        np.testing.assert_allclose(cand.pipeline.predict_proba(T.model_inputs(oot, MODEL_FEATURES))[:, 1], cand.proba["oot"])
    # the signal is learnable: every candidate is far better than chance out of time
    assert all(c.auc["oot"] > 0.75 for c in candidates)


def test_selection_uses_validation_auc_only():
    def cand(name, val, oot):
        return T.CandidateResult(name, None, (), {"train": 1.0, "validation": val, "test": 0.5, "oot": oot}, 0.5, 0.0)

    best = T.select_best([cand("a", 0.80, 0.99), cand("b", 0.85, 0.60)])
    assert best.name == "b"


@pytest.mark.parametrize(
    "challenger,champion,margin,promote",
    [(0.80, None, 0.01, True), (0.82, 0.80, 0.01, True), (0.805, 0.80, 0.01, False), (0.79, 0.80, 0.0, False), (0.80, 0.80, 0.0, True)],
)
def test_champion_challenger_rule_with_margin(challenger, champion, margin, promote):
    d = T.decide_promotion(challenger, champion, margin)
    assert d.promote is promote
    assert ("kept" in d.reason) is (not promote)


def test_training_policy():
    p = T.TrainingPolicy(retrain_every_months=3)
    w = T.split_windows(month_keys("2023-01-01", "2024-06-01"), p)
    champ = {"version": "v", "trained_month": "2024-11-01", "data_end": "2024-03-01"}
    assert not T.should_train("2024-12-01", None, None, p).train  # not enough labels
    assert T.should_train("2024-12-01", None, w, p).train  # no champion yet
    assert not T.should_train("2025-01-01", champ, w, p).train  # 2 months old
    assert T.should_train("2025-02-01", champ, w, p).train  # 3 months old, newer labels
    same = {**champ, "data_end": "2024-06-01"}
    assert not T.should_train("2025-02-01", same, w, p).train  # no labels newer than its data
    assert T.should_train("2025-01-01", champ, w, p, forced=True).train
    last = {"month": "2025-01-01", "data_end": "2024-06-01"}
    assert not T.should_train("2025-01-01", champ, w, p, forced=True, last_training=last).train


def test_model_month_chain_trains_carries_forward_and_respects_the_time_contract(tmp_path):
    features, labels = make_gold(first="2023-01-01", last="2024-12-01", per_month=80)
    store = ModelStore(tmp_path)
    policy = T.TrainingPolicy(retrain_every_months=3)
    labelled, decisions = T.LabelledLoans(features, labels), {}
    for month in month_keys("2024-09-01", "2025-03-01"):
        decisions[month] = T.run_model_month(month, labelled, store, policy)["entry"]
    # first 16 labelled application months (2023-01..2024-04) are observable from 2024-11 (label month 2024-10)
    assert decisions["2024-09-01"]["champion"] is None and decisions["2024-10-01"]["champion"] is None
    first = decisions["2024-11-01"]
    assert first["trained"] and first["champion"] == first["trained"]
    assert decisions["2024-12-01"]["trained"] is None and decisions["2024-12-01"]["champion"] == first["champion"]
    assert decisions["2025-02-01"]["trained"]  # 3 months later: retrain; promotion decided by the OOT rule
    for month, entry in decisions.items():
        if entry["trained"]:
            bundle = store.read_bundle_metadata(entry["trained"])
            used = labels[labels["application_month"].isin(sum(bundle["windows"].values(), []))]
            assert (used["label_month"] < month).all(), "model[M] must not use labels observable in or after M"
            assert sum(bundle["split_rows"].values()) == len(used)
            assert set(bundle["metrics"]) == {"logistic_regression", "random_forest", "gradient_boosting", T.BASELINE}
            assert 0 <= bundle["threshold"] <= 1
    reg = store.registry()
    assert reg["months"]["2025-03-01"]["champion"] in reg["versions"]


def test_feature_importances_find_the_signal():
    features, labels = make_gold(per_month=80)
    frame = T.labelled_frame(features, labels, "2024-12-01")
    w = T.split_windows(frame["application_month"].unique(), T.TrainingPolicy())
    candidates, _ = T.train_candidates(frame, w, T.TrainingPolicy())
    val = frame[frame["application_month"].isin(w.validation)]
    for cand in candidates:  # native importances (RF), |coef| (LR), permutation AUC drop (HistGradientBoosting)
        top = T.feature_importances(cand.pipeline, top=3, X=T.model_inputs(val, MODEL_FEATURES), y=val["label"].to_numpy())
        assert {"Credit_History_Months", "loan_amt"} <= {name for name, _ in top}, (cand.name, top)


def test_permutation_importance_for_estimators_without_their_own():
    from sklearn.neighbors import KNeighborsClassifier

    features, labels = make_gold(per_month=80)
    frame = T.labelled_frame(features, labels, "2024-12-01")
    X, y = T.model_inputs(frame, ["Credit_History_Months", "loan_amt", "Age", "Credit_Mix"]), frame["label"].to_numpy()
    pipe = T.build_pipeline(KNeighborsClassifier(50), list(X.columns)).fit(X, y)
    top = T.feature_importances(pipe, top=2, X=X, y=y)
    assert {name for name, _ in top} == {"Credit_History_Months", "loan_amt"}


def test_candidates_fit_side_by_side_give_the_models_fit_one_after_another(monkeypatch):
    features, labels = make_gold(per_month=60)
    frame = T.labelled_frame(features, labels, "2024-12-01")
    w = T.split_windows(frame["application_month"].unique(), T.TrainingPolicy())
    runs = {}
    for workers in (1, 3):
        monkeypatch.setattr(T, "CANDIDATE_WORKERS", workers)
        candidates, _ = T.train_candidates(frame, w, T.TrainingPolicy())
        runs[workers] = candidates
    assert [c.name for c in runs[3]] == [c.name for c in runs[1]] == list(T.candidate_estimators())
    for alone, together in zip(runs[1], runs[3]):
        # The random forest sums its trees' votes in whichever order its own threads finish, so scores
        # agree to the last bits only (as between two sequential runs).
        assert together.auc == pytest.approx(alone.auc, abs=1e-12) and together.threshold == pytest.approx(alone.threshold, abs=1e-12)
        for split in T.SPLITS:
            np.testing.assert_allclose(together.proba[split], alone.proba[split], rtol=1e-12, atol=0)
