"""certbot-safedeploy: a certbot authenticator and deploy step that check their own work.

The package is layered so that data flows one way:

* :mod:`certbot_safedeploy.verify` holds pure checks on certificate material (no I/O);
* :mod:`certbot_safedeploy.deploy` and :mod:`certbot_safedeploy.challenges` own the effects
  (files, processes, DNS and HTTP);
* :mod:`certbot_safedeploy.plugin`, :mod:`certbot_safedeploy.hooks` and
  :mod:`certbot_safedeploy.cli` are thin doors into the same code.

Only :mod:`certbot_safedeploy.plugin` imports certbot.
"""

__version__ = "0.1.0"
