"""``python -m analytics_pipeline.cli``: the ``analytics-pipeline`` command."""

import sys

from analytics_pipeline.cli import main

sys.exit(main())
