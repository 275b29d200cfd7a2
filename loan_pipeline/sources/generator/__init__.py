"""Deterministic sample data in the layout of the four CS611 loan-book extracts.

`generate_loan_book` writes lms_loan_daily.csv, feature_clickstream.csv, features_attributes.csv and
features_financials.csv with the column order of the schema contracts, distributions modelled on the
real extract, its dirty values at its rates, and default outcomes that depend on the application-time
features. data/README.md documents what is generated and why.

How a customer is made:
1. A latent credit quality `q` (higher = riskier). Its mean rises over the second half of the loan
   start months: the mild risk-mix drift that monitoring should see.
2. Profile features are noisy functions of `q` (so they correlate like real ones do).
3. A risk score is computed FROM those feature values (plus noise); the default probability is a
   logistic function of it, calibrated so that `DEFAULT_RATE` of loans default.
4. Defaulters follow the real extract's repayment shape: pay or skip (then catch up) on installments
   1..4, then stop paying for good. Everyone else pays every installment.
5. Dirty values are injected per row after formatting, at the rates in `DIRTY_RATES`.

Same arguments -> byte-identical files. Every file is written to a temp file and renamed into place.

One module per part: `population` (the customers, their risk, defaults and later profile refreshes),
one module per extract (`lms`, `clickstream`, `attributes`, `financials`), `dirty` (the dirty values
and their rates), `csv_writer` (the CSV text and atomic writes), `generate` (`generate_loan_book`,
which ties them together) and `cli` (`python -m loan_pipeline.sources.generator`).
"""

from loan_pipeline.sources.generator.generate import generate_loan_book

__all__ = ["generate_loan_book"]
