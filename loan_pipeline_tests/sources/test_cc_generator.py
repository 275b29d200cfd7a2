"""The CC GENERAL sample generator: deterministic, the real layout, segments to find, its CLI."""

from __future__ import annotations

import pytest

from loan_pipeline.sources import cc_generator
from loan_pipeline.transforms.segmentation.inputs import load_cc_customers
from loan_pipeline.transforms.segmentation.pipeline import run_cc_segmentation


def test_generator_is_deterministic_and_has_the_real_layout(tmp_path):
    counts = cc_generator.generate_cc_general(tmp_path / "a")
    cc_generator.generate_cc_general(tmp_path / "b")
    for name in ("file.csv", "test.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert counts == {"customers": 8950, "test_customers": 1, "blank_minimum_payments": 313, "blank_credit_limit": 1}
    customers = load_cc_customers(tmp_path / "a" / "file.csv")
    assert tuple(customers.columns) == cc_generator.CC_COLUMNS
    assert customers["CUST_ID"].iloc[0] == "C10001"
    assert customers["MINIMUM_PAYMENTS"].isna().mean() == pytest.approx(0.035, abs=0.001)
    assert customers["CREDIT_LIMIT"].isna().sum() == 1
    freq = [c for c in cc_generator.CC_COLUMNS if c.endswith("FREQUENCY") or c == "PRC_FULL_PAYMENT"]
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
    result = run_cc_segmentation(tmp_path / "s1")
    assert result.elbow.found and result.elbow.k >= 3
    assert result.extras["test"]["segment"].between(0, result.elbow.k - 1).all()


def test_generator_cli(tmp_path, capsys):
    cc_generator.main(["--out", str(tmp_path / "cli"), "--customers", "120", "--seed", "3"])
    assert '"customers": 120' in capsys.readouterr().out
    assert len(load_cc_customers(tmp_path / "cli" / "file.csv")) == 120
