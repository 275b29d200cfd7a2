"""Silver: typed and cleaned rows, each carrying the data-quality flags it raised.

Cleaning rules (the one place they are defined; each has a unit test):
- Placeholders stand for "unknown" and become null, flagged `<col>:placeholder`:
  a run of underscores (`_`, `_______`), `!@9#%8`, and numbers wrapped in double underscores
  (`__10000__`, `__-333333333333333333333333333__`) — the extract's sentinel values.
- A trailing underscore on a number (`52312.68_`, `2_`) is a formatting artefact: it is stripped
  and the value kept, flagged `<col>:trailing_underscore`.
- Signs are kept. A value outside its plausible range (RANGES) is kept as it is and flagged
  `<col>:out_of_range`; gold decides what a model may use.
- `NM` in Payment_of_Min_Amount is a category ("not mentioned"), not a missing value.
- A category outside the known vocabulary is kept and flagged `<col>:unknown_category`.
- `Credit_History_Age` ("22 Years and 1 Months") becomes `Credit_History_Months` (265).
- `Type_of_Loan` is a comma list ("A, B, and C"); an empty value means no loan type is listed.
- `Name` and `SSN` stop here: silver keeps `ssn_valid` (###-##-#### format) only.
- Loans get months-on-book (`mob` = installment_num) and days past due (`dpd`): installments
  missed = ceil(overdue_amt / due_amt); dpd = days from the first missed due date to the snapshot.
- A value that is none of the above and still does not parse as its type, an empty key, or an
  unparseable date quarantines the row (with every reason); so does a repeated key (the first row
  by source position is kept, later ones are quarantined naming it). Nothing is dropped silently:
  bronze rows = silver rows + quarantined rows, per month, and a check asserts it.

One job per module: `rules` (each column's typed value and status as Spark SQL), `classify` (the
Spark pass over bronze rows: flags, errors, repeated keys, silver and quarantine rows) and `quality`
(the statistics and schema checked on the written silver months).
"""
