"""Every parser of outside input, as a fuzz target: parts of bytes in, success or the project's own error out.

A target's ``run(parts, work)`` feeds the parts (files, replies, environment
values) to the project's code the way the outside world would.  Returning is
success; raising one of ``allowed`` (always :class:`SafeDeployError`, plus the
error a pure parser documents) is a refusal; anything else is a crash.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple, Type

from certbot_safedeploy.deploy.starttls import StartTlsError
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.verify.pem import PemFormatError
from tests.fuzz import mutate as m
from tests.fuzz import seeds
from tests.fuzz.peers import ScriptChannel, StubDns

Parts = List[bytes]
NOW = datetime.datetime.now(datetime.timezone.utc)


@dataclasses.dataclass
class Target:
    name: str
    seeds: Callable[[], List[Parts]]
    mutators: Sequence[List[m.Mutator]]  # one list per part
    run: Callable[[Parts, Path], object]
    allowed: Tuple[Type[BaseException], ...] = ()


def text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def env_text(data: bytes) -> str:
    """An environment value as os.environ holds it: no NUL, undecodable bytes as surrogates."""
    return data.replace(b"\x00", b"").decode("utf-8", "surrogateescape")


def write(work: Path, name: str, data: bytes) -> str:
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


_TRUST = None


def trust():  # type: ignore[no-untyped-def]
    global _TRUST
    if _TRUST is None:
        from cryptography import x509

        from certbot_safedeploy.verify.chain import TrustStore

        _TRUST = TrustStore([x509.load_pem_x509_certificate(seeds.pki()["root"])], "fuzz root")
    return _TRUST


# -- certificates, keys, CSRs ------------------------------------------------------------------
def run_pem(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.verify.keys import load_private_key
    from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates, expect_private_key, parse_blocks

    parse_blocks(parts[0])
    try:
        expect_certificates(parts[0], at_least=1)
    except PemFormatError:
        pass
    load_private_key(expect_private_key(parts[0]))


def run_keyfile(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.material.keyfiles import pins_of_file

    pins_of_file(write(work, "key.pem", parts[0]))


def run_certfiles(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.material.certfiles import verify_files

    cert, chain = write(work, "cert.pem", parts[0]), write(work, "chain.pem", parts[1])
    verify_files(cert, chain, trust=trust(), domains=["example.com"], now=NOW)


def run_lineage(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.verify.lineagecheck import verify_lineage

    live = work / "live" / "example.com"
    for name, data in zip(("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"), parts):
        write(live, name, data)
    verify_lineage(read_lineage(str(live)), trust=trust(), domains=["example.com"],
                   pin_set=["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])


def run_served(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.deploy.connectcheck import _describe_sent
    from certbot_safedeploy.verify.served import judge_served

    judge_served(parts[0], [parts[1]], trust(), servername="example.com", now=NOW, where="fuzz:443")
    _describe_sent(parts)


def run_trust(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.material.trust import _load_file

    _load_file.cache_clear()
    _load_file(write(work, "anchors.pem", parts[0]))


def run_csr(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.fleet.rules.csr import read_csr

    read_csr(parts[0])


def run_issued(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.fleet.rules.issued import check_issued

    check_issued(parts[0], parts[1], "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ("example.com",),
                 NOW.timestamp())


def run_fleet_row(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.fleet.db.wire import published
    from certbot_safedeploy.fleet.rules.view import judge

    try:
        row = json.loads(parts[0])
    except (ValueError, RecursionError):
        row = [text(p) for p in parts[0].split(b"|")]
    if not isinstance(row, list):
        row = [row]
    published((row + [None] * 10)[:10])  # the store's query selects 10 columns
    keys = ("name", "server", "serial", "consecutive_failures", "refusal", "owner", "installed_serial",
            "served_serial", "last_pull_at", "outcome", "last_error", "cert_pin", "csr_pin", "enrolled_pin",
            "not_after", "issued_at")
    values = row * (len(keys) // max(len(row), 1) + 1) if row else [None] * len(keys)
    judge(dict(zip(keys, values)), NOW.timestamp(), 24.0)


# -- the TOML config ----------------------------------------------------------------------------
def run_config(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.config.load import parse_config

    parse_config(text(parts[0]), "fuzz.toml")


def run_config_file(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.config.load import load_config

    path = write(work, "safedeploy.toml", parts[0])
    os.chmod(path, 0o600)
    load_config(path)


# -- renewal configs, doctor ---------------------------------------------------------------------
def run_renewal(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.doctor.checks import run_checks
    from certbot_safedeploy.doctor.snapshot import take_snapshot

    config_dir = work / "letsencrypt"
    live = config_dir / "live" / "example.com"
    write(live, "cert.pem", seeds.pki()["leaf"])
    body = parts[0].replace(b"%(live)s", str(live).encode())
    write(config_dir / "renewal", "example.com.conf", body)
    snap = take_snapshot(str(config_dir), system_root=str(work / "root"))
    run_checks(snap, [], str(work / "safedeploy.toml"))


def run_tsigkey(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.challenges.dns01 import load_tsig_key
    from certbot_safedeploy.challenges.dnsmsg import build_update
    from certbot_safedeploy.challenges.tsigkey import parse_key_file

    key = parse_key_file(text(parts[0]), "fuzz.key")
    build_update("example.com", [("_acme-challenge.example.com", "abc")], key)
    path = write(work, "tsig.key", parts[0])
    os.chmod(path, 0o600)
    load_tsig_key(path, warn=lambda message: None)


# -- DNS --------------------------------------------------------------------------------------------
def run_dnsmsg(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.challenges.dnsmsg import build_update, flavour_of

    zone, name, value = (text(p) for p in parts[:3])
    build_update(zone, [(name, value)], None)
    build_update(zone, [(name, value)], None, delete=True, ttls={name: 300})
    flavour_of(value)


_DNS: List[StubDns] = []


def dns_stub() -> StubDns:
    if not _DNS:
        _DNS.append(StubDns())
    return _DNS[0]


def run_dns_reply(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.challenges.dnsclient import DnsClient
    from certbot_safedeploy.challenges.locate import Locator
    from certbot_safedeploy.config.challenge_section import ChallengeSettings

    stub = dns_stub()
    stub.reply = parts[0]
    client = DnsClient(f"127.0.0.1:{stub.port}", None, timeout=0.5)
    for call in (lambda: client.nameservers("example.com"), lambda: client.txt_ttls(["_acme-challenge.example.com"]),
                 client.flavour, lambda: client.update("example.com", [("_acme-challenge.example.com", "v")])):
        try:
            call()
        except SafeDeployError:
            pass
    settings = ChallengeSettings(nsupdate_server=f"127.0.0.1:{stub.port}", resolver=f"127.0.0.1:{stub.port}",
                                 propagation_timeout=1)
    locator = Locator(settings, timeout=0.5)
    for call in (lambda: locator.follow_cnames("_acme-challenge.example.com"), lambda: locator.find_zone("example.com"),
                 lambda: locator.addresses("ns1.example.com"), lambda: locator.target("_acme-challenge.example.com")):
        try:
            call()
        except SafeDeployError:
            pass


# -- STARTTLS and TLS replies -------------------------------------------------------------------------
def _starttls(protocol: str) -> Callable[[Parts, Path], None]:
    def run(parts: Parts, work: Path) -> None:
        from certbot_safedeploy.deploy.starttls import negotiate

        negotiate(protocol, ScriptChannel(parts), "mail.example.com", "[127.0.0.1]")
    return run


def run_tls_certificate_message(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.deploy.tlsclient import parse_certificate_message

    for tls13 in (False, True):
        try:
            parse_certificate_message(parts[0], tls13)
        except ValueError:
            pass  # the documented refusal; fetch() turns it into ssl.SSLError


def certificate_messages() -> List[Parts]:
    certs = [seeds.pki()["leaf_der"], seeds.pki()["intermediate_der"]]
    tls12 = b"".join(len(c).to_bytes(3, "big") + c for c in certs)
    tls13 = b"".join(len(c).to_bytes(3, "big") + c + b"\x00\x00" for c in certs)
    return [[len(tls12).to_bytes(3, "big") + tls12], [b"\x00" + len(tls13).to_bytes(3, "big") + tls13]]


# -- the manual hooks -----------------------------------------------------------------------------------
HOOK_ENV = ("CERTBOT_DOMAIN", "CERTBOT_VALIDATION", "CERTBOT_TOKEN", "CERTBOT_REMAINING_CHALLENGES",
            "CERTBOT_AUTH_OUTPUT", "CERTBOT_IDENTIFIER")


def _hook_config(work: Path):  # type: ignore[no-untyped-def]
    from certbot_safedeploy.config.load import parse_config

    (work / "www").mkdir(exist_ok=True)
    port = dns_stub().port
    dns_stub().reply = None  # REFUSED: dns-01 ends quickly in a ChallengeError
    return parse_config(f'''state_dir = "{work / 'state'}"
[challenge]
webroot_map = {{ "example.com,www.example.com" = "{work / 'www'}" }}
self_check = "off"
nsupdate_server = "127.0.0.1:{port}"
resolver = "127.0.0.1:{port}"
propagation_timeout = 1
''', "hooks.toml")


def run_hooks(parts: Parts, work: Path) -> None:
    from certbot_safedeploy import hooks

    config = _hook_config(work)
    env = {k: env_text(v) for k, v in zip(HOOK_ENV, parts) if v != b"<unset>"}
    state = work / "state"
    state.mkdir(exist_ok=True)
    (state / "manual-state.json").write_bytes(parts[len(HOOK_ENV)])
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            out = hooks.manual_auth(env, config)
            env["CERTBOT_AUTH_OUTPUT"] = out
        except SafeDeployError:
            pass
        hooks.manual_cleanup(env, config)


def hook_seeds() -> List[Parts]:
    state = json.dumps({"0123456789abcdef": {"kind": "http-01", "created": 1.0, "path": "/nonexistent/.well-known/x",
                                             "created_dirs": []},
                        "fedcba9876543210": {"kind": "dns-01", "created": 2e9, "value": "abc",
                                             "record": {"zone": "example.com", "name": "_acme-challenge.example.com",
                                                        "value": "abc", "server": "", "tsig_key": None,
                                                        "dns_port": None}}}).encode()
    http = [b"example.com", b"tok_en-1.thumb-print", b"tok_en-1", b"0", b"", b"<unset>", state]
    dns01 = [b"www.example.com", b"digest_value-xyz", b"<unset>", b"1", b"0123456789abcdef", b"<unset>", state]
    return [http, dns01, [b"example.com", b"a.b", b"a", b"\xc2\xb2", b"", b"example.com", b"{"]]


# -- pure value parsers ------------------------------------------------------------------------------------
def run_values(parts: Parts, work: Path) -> None:
    from certbot_safedeploy.syntax.acme_values import check_domain, check_token, parse_webroot_map
    from certbot_safedeploy.syntax.hostport import split_host_port
    from certbot_safedeploy.syntax.numbers import parse_decimal, parse_port
    from certbot_safedeploy.verify.pinformat import PinFormatError, normalize_pin
    from certbot_safedeploy.material.renewalconf import RenewalConf, renew_window_days

    value = text(parts[0])
    split_host_port(value, 53)
    parse_decimal(value)
    parse_port(value)
    renew_window_days(RenewalConf("x", "x.conf", {"renew_before_expiry": value}, {}, {}), 90.0)
    for check in (check_domain, check_token, parse_webroot_map):
        try:
            check(value)
        except SafeDeployError:
            pass
    try:
        normalize_pin(value)
    except PinFormatError:
        pass


def run_state(parts: Parts, work: Path) -> None:
    """Our own state files, damaged: manual-state.json, the status file, a journal."""
    from certbot_safedeploy.challenges.state import ManualState
    from certbot_safedeploy.deploy.installer import _parse_journal
    from certbot_safedeploy.report.status import StatusSettings, record_deploy

    state = work / "state"
    state.mkdir(exist_ok=True)
    (state / "manual-state.json").write_bytes(parts[0])
    manual = ManualState(str(state), warn=lambda message: None)
    with manual.locked() as entries:
        manual.stale(entries)
    status = write(work, "status.json", parts[0])
    record_deploy(StatusSettings(file=status, prometheus=str(work / "x.prom")), "example.com", ["web"],
                  "deployed", 0, NOW)
    try:
        _parse_journal(json.loads(parts[0]), "journal.json")
    except (ValueError, RecursionError):
        pass  # not JSON: recover() reports it as an unreadable journal


def run_ari_answer(parts: Parts, work: Path) -> None:
    """A CA's directory, renewalInfo body and Retry-After header (RFC 9773 §4.2), and the state kept."""
    from certbot_safedeploy.ari import record
    from certbot_safedeploy.syntax.renewalinfo import parse_renewal_info, parse_renewal_info_url, parse_retry_after

    parse_renewal_info_url(parts[0])
    parse_renewal_info(parts[1])
    parse_retry_after(env_text(parts[2]), NOW.timestamp())
    try:
        data = json.loads(parts[1])
    except ValueError:  # (UnicodeDecodeError too) a record file that is not JSON is the loader's to refuse
        return
    record.from_json(data)


def run_crl(parts: Parts, work: Path) -> None:
    """A CRL body from a distribution point (RFC 5280 §6.3) for the seeds' leaf and issuer."""
    from cryptography import x509

    from certbot_safedeploy.verify.crlcheck import check_crl

    s = seeds.pki()
    leaf = x509.load_pem_x509_certificate(s["leaf"])
    issuer = x509.load_pem_x509_certificate(s["intermediate"])
    check_crl(leaf, issuer, parts[0], NOW)  # "never raises": any exception is a crash


def _crl_seeds() -> List[Parts]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from tests.pki import Pki

    pki = Pki.create("fuzz crl")
    builder = (x509.CertificateRevocationListBuilder().issuer_name(pki.intermediate.cert.subject)
               .last_update(NOW - datetime.timedelta(days=1)).next_update(NOW + datetime.timedelta(days=7))
               .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(7)
                                        .revocation_date(NOW - datetime.timedelta(days=1)).build()))
    crl = builder.sign(pki.intermediate.key, hashes.SHA256())
    return [[crl.public_bytes(serialization.Encoding.DER)], [crl.public_bytes(serialization.Encoding.PEM)]]


_ARI_SEEDS = [[b'{"newNonce": "https://ca/n", "renewalInfo": "https://ca/draft-ietf-acme-ari-03/renewalInfo"}',
               b'{"suggestedWindow": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}, '
               b'"explanationURL": "https://ca/incident"}',
               b"21600"],
              [b"{}", b'{"suggestedWindow": {"start": "2026-12-02T00:00:00.5+01:00", "end": "2026-12-01T00:00:00Z"}}',
               b"Wed, 21 Oct 2026 07:28:00 GMT"]]

P, D, T, G = m.PEM, m.DER, m.TOML, m.GENERIC


def _pki(*names: str) -> List[Parts]:
    s = seeds.pki()
    return [[s[n] for n in group.split("+")] for group in names]  # type: ignore[misc]


def _pki_joined(*groups: Sequence[str]) -> List[Parts]:
    s = seeds.pki()
    return [[b"".join(s[n] for n in part.split("+")) for part in group] for group in groups]


TARGETS: Dict[str, Target] = {t.name: t for t in [
    Target("pem", lambda: [[p] for p in seeds.pem_files()], [P + G], run_pem, (PemFormatError,)),
    Target("keyfile", lambda: [[p] for p in seeds.pem_files()], [P + G], run_keyfile),
    Target("certfiles", lambda: _pki_joined(("leaf", "intermediate"), ("rsa_leaf", "intermediate+root")),
           [P + G, P + G], run_certfiles),
    Target("lineage", lambda: _pki_joined(("leaf", "intermediate", "leaf+intermediate", "leaf_key"),
                                          ("leaf", "intermediate", "leaf+intermediate", "leaf_key_sec1")),
           [P + G] * 4, run_lineage),
    Target("served", lambda: _pki_joined(("leaf_der", "intermediate_der")), [D, D], run_served),
    Target("trust", lambda: _pki_joined(("root+intermediate",), ("root",)), [P + G], run_trust),
    Target("csr", lambda: _pki_joined(("csr",)), [P + G], run_csr),
    Target("issued", lambda: _pki_joined(("leaf", "intermediate")), [P + G, P + G], run_issued),
    Target("fleet_row", lambda: [[json.dumps(["example.com", '["example.com"]', "ab12", "2030-01-01", "3",
                                              "1700000000", "1700000000", None]).encode()],
                                 [json.dumps(["example.com", "web1", "ab12", 0, None, "web1", "ab12", "ab12",
                                              1700000000, "deployed", None, "sha256/x", "sha256/x", "sha256/x",
                                              1800000000, 1700000000]).encode()]],
           [T + G], run_fleet_row),
    Target("config", lambda: [[seeds.CONFIG]], [T + G], run_config),
    Target("config_file", lambda: [[seeds.CONFIG.replace(b"[fleet]", b"[notify.x]")], [seeds.CONFIG]], [T + G],
           run_config_file),
    Target("renewal", lambda: [[seeds.RENEWAL]], [G], run_renewal),
    Target("tsigkey", lambda: [[seeds.TSIG_KEY]], [G + [m.pem_damage]], run_tsigkey),
    Target("dnsmsg", lambda: [[b"example.com", b"_acme-challenge.example.com", b"abc-DEF_123"]], [G, G, G],
           run_dnsmsg),
    Target("dns_reply", lambda: [[r] for r in seeds.dns_replies()], [D + G], run_dns_reply),
    *[Target(f"starttls_{proto}", (lambda proto=proto: seeds.STARTTLS[proto]), [G + D] * 3, _starttls(proto),
             (StartTlsError,))  # an OSError: the probe's "connection failed"
      for proto in seeds.STARTTLS],
    Target("tls_certificate_message", certificate_messages, [D], run_tls_certificate_message),
    Target("hooks", hook_seeds, [G] * 6 + [T + G], run_hooks),
    Target("values", lambda: [[b"example.com:53"], [b"30 days"], [b"tok.thumb"], [b'{"a.com": "/var/www"}'],
                              [b"[::1]:5353"], [b"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]],
           [G], run_values),
    Target("ari_answer", lambda: _ARI_SEEDS, [T + G, T + G, G], run_ari_answer),
    Target("crl", _crl_seeds, [D + P + G], run_crl),
    Target("state", lambda: [[hook_seeds()[0][-1]], [b'{"lineages": {"a": {"not_after_epoch": 1}}, "targets": {}}'],
                             [b'{"direction": "forward", "entries": [{"dest": "/x", "staged": null}]}']],
           [T + G], run_state),
]}
