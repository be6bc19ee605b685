"""The hook executables, rendered for a given interpreter.

``hooks/`` in the repository holds these with ``/usr/bin/env python3``;
``certbot-safedeploy install`` writes them with the interpreter the package is
installed in, so they work with any certbot, the snap included.
"""

from __future__ import annotations

HOOKS = {
    # name: (what certbot calls it, module, function, call)
    "deploy": ("deploy hook: drop into /etc/letsencrypt/renewal-hooks/deploy/",
               "cli", "main", 'main(["deploy", *sys.argv[1:]])'),
    "manual-auth": ("--manual-auth-hook: sets up the challenge and checks it before the CA does",
                    "hooks", "run_hook", 'run_hook("auth")'),
    "manual-cleanup": ("--manual-cleanup-hook: removes exactly what manual-auth created",
                       "hooks", "run_hook", 'run_hook("cleanup")'),
}

_TEMPLATE = '''#!{python}
"""certbot {role}.

certbot-safedeploy; settings come from $SAFEDEPLOY_CONFIG (default
/etc/letsencrypt/safedeploy.toml).  Never imports certbot.  Set
SAFEDEPLOY_PYTHONPATH if the package is not importable by this interpreter.
"""
import os
import sys

extra = os.environ.get("SAFEDEPLOY_PYTHONPATH")
if extra:
    sys.path[:0] = extra.split(os.pathsep)
try:
    from certbot_safedeploy.{module} import {function}
except ImportError as exc:
    sys.stderr.write(f"safedeploy {name} hook: cannot import certbot_safedeploy ({{exc}}); "
                     "install it for this interpreter or set SAFEDEPLOY_PYTHONPATH\\n")
    sys.exit(1)
sys.exit({call})
'''


def render(name: str, python: str = "/usr/bin/env python3") -> str:
    role, module, function, call = HOOKS[name]
    return _TEMPLATE.format(python=python, role=role, module=module, function=function, call=call, name=name)
