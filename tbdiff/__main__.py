"""`python -m tbdiff` is the same as the `tbdiff` console script."""

from tbdiff.cli import main

raise SystemExit(main())
