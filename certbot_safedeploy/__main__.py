import sys

from certbot_safedeploy.cli import main

sys.exit(main())
