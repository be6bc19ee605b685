from certbot_safedeploy.syntax.envfile import parse_env_file, parse_unit_environment

EPEL_SYSCONFIG = """## NOTE ##
# If a hook is set here then it will be used for all
# certificates and will override any per certificate
# hook configuration in place.
# PRE_HOOK="--pre-hook 'systemctl stop postfix'"
PRE_HOOK=""
POST_HOOK=""
RENEW_HOOK=""
DEPLOY_HOOK="--deploy-hook '/usr/bin/certbot-safedeploy hook'"
CERTBOT_ARGS="--force-renewal"
"""


def test_sysconfig_assignments_unquoted_comments_skipped():
    got = [(a.name, a.value, a.line) for a in parse_env_file(EPEL_SYSCONFIG)]
    assert got == [("PRE_HOOK", "", 6), ("POST_HOOK", "", 7), ("RENEW_HOOK", "", 8),
                   ("DEPLOY_HOOK", "--deploy-hook '/usr/bin/certbot-safedeploy hook'", 9),
                   ("CERTBOT_ARGS", "--force-renewal", 10)]


def test_profile_exports_and_malformed_lines():
    text = ("export https_proxy=http://proxy.example:3128\nhttp_proxy='http://p:8080' # comment\n"
            "if [ -x /x ]; then\n  echo hi\nfi\nBROKEN=\"unbalanced\nexport -n FOO\n")
    got = [(a.name, a.value) for a in parse_env_file(text)]
    assert got == [("https_proxy", "http://proxy.example:3128"), ("http_proxy", "http://p:8080"),
                   ("BROKEN", '"unbalanced')]


def test_unit_environment_files_and_resets():
    unit = parse_unit_environment("""[Unit]
Environment=NOT_SERVICE=1
[Service]
EnvironmentFile=/etc/sysconfig/certbot
EnvironmentFile=-/etc/default/missing
Environment="https_proxy=http://proxy:3128" no_proxy=localhost
ExecStart=/usr/bin/certbot renew $DEPLOY_HOOK
""")
    assert [(a.name, a.value) for a in unit.environment] == [("https_proxy", "http://proxy:3128"),
                                                             ("no_proxy", "localhost")]
    assert unit.files == ("/etc/sysconfig/certbot", "/etc/default/missing")
    assert unit.exec_start == ("/usr/bin/certbot renew $DEPLOY_HOOK",)
    reset = parse_unit_environment("[Service]\nEnvironment=A=1\nEnvironment=\nEnvironmentFile=/x\nEnvironmentFile=\n")
    assert reset.environment == () and reset.files == ()
