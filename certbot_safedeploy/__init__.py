"""certbot-safedeploy: a certbot authenticator and deploy step that check their own work.

Data flows one way, and imports follow it, from the faces down (``tests/test_layout.py``
holds this order and fails on any import that goes up or round):

1. the faces: :mod:`~certbot_safedeploy.cli` (the console script),
   :mod:`~certbot_safedeploy.hooks` (``run_hook``, which installed hook files call) and
   :mod:`~certbot_safedeploy.plugin` (certbot's ``safedeploy`` authenticator);
2. :mod:`~certbot_safedeploy.commands`: one module per subcommand;
3. the domain packages: :mod:`~certbot_safedeploy.challenges` (http-01, dns-01),
   :mod:`~certbot_safedeploy.deploy` (the gate: plan, install, probe, roll back),
   :mod:`~certbot_safedeploy.services` (presets' readers, adopt),
   :mod:`~certbot_safedeploy.doctor` and :mod:`~certbot_safedeploy.fleet`;
4. :mod:`~certbot_safedeploy.config`: one typed model of the TOML file, each table parsed once;
5. readers (:mod:`~certbot_safedeploy.material`) and effects (:mod:`~certbot_safedeploy.system`:
   atomic files, ACLs, syslog; :mod:`~certbot_safedeploy.report`: notify, status);
6. the pure core: :mod:`~certbot_safedeploy.verify` (checks on certificate material),
   :mod:`~certbot_safedeploy.syntax` (values written as text) and :mod:`~certbot_safedeploy.errors`.

Only :mod:`certbot_safedeploy.plugin` imports certbot.
"""

__version__ = "0.1.0"
