import sys

from photomaker.cli import main

sys.exit(main())
