"""Model training: temporal splits, one sklearn Pipeline per candidate, selection and promotion rules.

Plain functions (no Dagster), one job per module:
- `policy`: when a model month trains (TrainingPolicy, should_train);
- `splits`: the time contract (docs/design.md, "Time contract") — only labels observable before the model month
  (label_month < M), cut into train / validation / test / out-of-time windows, oldest to newest,
  never overlapping;
- `candidates`: every candidate is ONE Pipeline (imputation, encoding, scaling, estimator) fit on the
  train split only; the best is selected on validation AUC;
- `promotion`: the champion/challenger rule on the out-of-time window;
- `model_month`: one `model[M]` partition end to end (train if due, decide, register).
"""
