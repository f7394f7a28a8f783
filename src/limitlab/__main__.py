import sys

from limitlab.cli import main

sys.exit(main())
