"""Customer segmentation: k-means with the number of segments chosen at the elbow of the SSE curve.

Plain functions (pandas / scikit-learn / matplotlib, no Dagster) shared by the credit-card
segmentation (CC GENERAL layout) and the monthly loan-book segmentation, one job per module:
`inputs` (reading and validating the input), `kmeans` (the fixed k-means settings), `elbow` (the SSE
curve and its elbow), `model` (preprocessing, the final model, assignments and profiles),
`pipeline` (the whole segmentation of a frame or a CC folder), `loan_book` (the monthly loan-book
rows), `persistence` (saved models) and `report` (the elbow plot and Markdown tables).

Rules, in the order they apply:

- Features are validated first: a missing column, a non-numeric value or a column with no value at
  all raises `SegmentationInputError` naming the source (file / table + month) and the column.
- Missing values: rows with a blank in any selected feature are *not* used to fit the scaler or the
  k-means model (imputing before fitting would pile customers on the median and drag centroids).
  They still get a segment: at assignment time a blank is replaced by that feature's median over
  the fitting rows (the median travels with the model), and `n_imputed` counts the replaced values.
- Scaling: MinMax, fit on the fitting rows, saved inside the model pipeline (imputer -> scaler ->
  k-means), so a saved model segments raw customers in original units.
- Elbow: SSE (k-means inertia) for k = 1..K in ONE sweep: for each k, a run warm-started from the
  best centres for k-1 plus one greedy k-means++ centre competes with one fresh k-means++ run, and
  the lower SSE wins. The warm start begins at or below SSE(k-1) and Lloyd never raises the SSE, so
  the curve is non-increasing by construction (independent single restarts per k are not; ten
  restarts per k are, in practice, but cost several times more). The elbow is
  `kneed.KneeLocator(curve="convex", direction="decreasing")`; if kneed finds none (flat or too short
  curve, e.g. K < 3), k = 1 and `found` is False.
- Final model: fit AT the elbow k with k-means++ and a fixed n_init / random_state (deterministic).
- Too few rows: the CC segmentation needs at least K fitting rows and raises otherwise; a monthly
  loan-book partition with fewer than K rows lowers K to n - 1 (k = n is the trivial zero-SSE
  solution, so it would only add a meaningless last point to the curve), and at least 1.
"""
