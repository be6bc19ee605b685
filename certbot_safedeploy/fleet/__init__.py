"""Fleet mode: one host issues, many servers pull, verify and install; keys stay put.

* The central host keeps an allow list (``allow``/``disallow``): which server
  may hold which DNS names; on PostgreSQL each server logs in with its own
  role (``grant``) and row-level security confines it to its own rows.
* Servers ``enroll`` a name: the key is generated locally and only the CSR
  (PKCS #10, RFC 2986) goes to the store, as a request the central host
  accepts or refuses.
* The central host ``renew``s due names with ``certbot certonly --csr``
  (RFC 8555 orders), checks the result against the CSR's key and publishes it.
* Servers ``pull`` the newest certificate, verify it against their own key and
  the trust anchors, install it with the deploy pipeline and report back.
* ``status`` shows, per name and server, what was published and what is served.

Pure logic lives in :mod:`.rules` (renewal policy, CSR and issued-certificate checks,
status views); :mod:`.db` owns the database (the SQLAlchemy store, schema, migrations,
roles and policies, and :mod:`.db.wire`, the pull's and status's direct driver path);
:mod:`.central`, :mod:`.renew`, :mod:`.enroll`, :mod:`.pull`, :mod:`.localstate` and
:mod:`.units` are the steps the fleet commands (:mod:`certbot_safedeploy.commands.fleet`) run.
The ``[fleet]`` table is parsed by :mod:`certbot_safedeploy.config.fleet_section`.
"""
