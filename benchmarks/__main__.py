"""``python -m benchmarks``: run every benchmark and print the report."""

import sys

from benchmarks.run import main

sys.exit(main())
