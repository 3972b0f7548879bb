import sys

from ghostfolio_plaid.cli import main

sys.exit(main())
