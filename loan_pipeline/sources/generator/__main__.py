"""`python -m loan_pipeline.sources.generator --out DIR`: see cli.py."""

import sys

from loan_pipeline.sources.generator.cli import main

if __name__ == "__main__":
    sys.exit(main())
