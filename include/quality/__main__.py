import sys

from include.quality.cli import main

sys.exit(main())
