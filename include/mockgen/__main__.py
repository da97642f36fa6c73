import sys

from include.mockgen.cli import main

sys.exit(main())
