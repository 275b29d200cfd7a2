"""Customer segmentation assets: k-means with the number of segments at the kneed elbow.

Credit-card customers (CC GENERAL layout, not partitioned):
    cc_customers -> cc_features -> cc_elbow -> cc_kmeans_model -> cc_segments
Loan book (monthly): silver_financials[M] -> customer_segments[M]

Each asset writes its output as files under Settings.home and returns only metadata; the next asset
reads those files (no IO-manager pickles), so any asset can be re-run on its own in a fresh process
or container. The logic lives in loan_pipeline/transforms/segmentation/.

Modules: `storage` (the output paths and file helpers), `credit_card` (the five CC assets), `checks`
(their asset checks) and `loan_book` (customer_segments). The two lists below are what the
Definitions load.
"""

from loan_pipeline.assets.segmentation.checks import cc_kmeans_model_matches_elbow, cc_segments_complete
from loan_pipeline.assets.segmentation.credit_card import cc_customers, cc_elbow, cc_features, cc_kmeans_model, cc_segments
from loan_pipeline.assets.segmentation.loan_book import customer_segments

segmentation_assets = [cc_customers, cc_features, cc_elbow, cc_kmeans_model, cc_segments, customer_segments]
segmentation_checks = [cc_kmeans_model_matches_elbow, cc_segments_complete]
