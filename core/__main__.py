"""`python -m silverprint` is the same as the `silverprint` command."""
import sys

from .cli import main

sys.exit(main())
