import pytest

from certbot_safedeploy.verify.names import check_names, covers
from certbot_safedeploy.verify.report import Severity
from tests.pki import Pki


@pytest.mark.parametrize("san,domain,expected", [
    ("example.com", "example.com", True),
    ("Example.COM", "example.com.", True),
    ("*.a.b", "x.a.b", True),
    ("*.a.b", "a.b", False),
    ("*.a.b", "y.x.a.b", False),
    ("*.a.b", "*.a.b", True),
    ("x.a.b", "*.a.b", False),
    ("*.a.b", "*.x.a.b", False),
    ("xn--bcher-kva.example", "bücher.example", True),  # a requested U-label is converted
    ("bücher.example", "xn--bcher-kva.example", False),  # a SAN must hold A-labels (IA5String)
    ("_srv.example.com", "_srv.example.com", True),  # OpenSSL, GnuTLS and NSS match it exactly
    ("*.example.com", "foo_bar.example.com", False),  # OpenSSL: a wildcard only over LDH labels
    ("*.com", "example.com", False),  # a wildcard over a TLD
    ("*.test", "probe.test", False),
    ("*.co.uk", "example.co.uk", False),  # over a public suffix: Chrome refuses it
    ("a*.example.com", "ab.example.com", False),  # only a whole-label wildcard

    ("other.com", "example.com", False),
])
def test_rfc6125_matching(san, domain, expected):
    assert covers(san, domain) is expected


def test_check_names_reports_missing():
    pki = Pki.create()
    leaf = pki.leaf("example.com", "*.example.com").cert
    assert check_names(leaf, ["example.com", "www.example.com"], "c")[0].severity is Severity.OK
    [finding] = check_names(leaf, ["example.com", "a.b.example.com", "other.org"], "cert.pem")
    assert finding.severity is Severity.ERROR
    assert "a.b.example.com, other.org" in finding.message
    assert finding.fix
