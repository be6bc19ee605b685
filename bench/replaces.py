"""Measure: is driving the fleet's orders through the acme library directly (to send ``replaces``,
RFC 9773 section 5) worth it, against ``certbot certonly --csr``, which cannot send it?

    .venv/bin/python bench/replaces.py [--runs 5]

Against Debian 13's pebble 2.6 (scripts/fetch-pebble26) on loopback, in a private
network namespace, with http-01 through the bed's nginx webroot:

- ``certbot certonly --csr`` with ``-a safedeploy`` (what ``fleet renew`` runs), per issuance;
- the acme library (the same one certbot uses) driven directly: one account, then each
  order names the previous certificate in ``replaces``, per issuance;
- whether pebble accepts ``replaces``, and what it answers when a certificate is replaced twice.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import josepy as jose  # noqa: E402
from acme import challenges, client, errors, messages  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from certbot_safedeploy.ari.certid import cert_id  # noqa: E402
from tests.integration.acmebed import PEBBLE26  # noqa: E402
from tests.integration.conftest import _start_acme_bed, _stop  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402

NAME = "web.example.test"


class NewOrderReplacing(messages.NewOrder):
    """newOrder with RFC 9773 section 5's ``replaces`` (no acme release has it, 5.9 included)."""

    replaces: str = jose.field("replaces", omitempty=True)


def csr_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM)


def direct_order(acme: client.ClientV2, jwk: jose.JWK, webroot: Path, replaces: str | None) -> x509.Certificate:
    """One order, http-01, finalize, download, polling every 50 ms."""
    pem = csr_pem()
    order = NewOrderReplacing(identifiers=[messages.Identifier(typ=messages.IDENTIFIER_FQDN, value=NAME)],
                              replaces=replaces)
    response = acme._post(acme.directory["newOrder"], order)
    body = messages.Order.from_json(response.json())
    for url in body.authorizations:
        authzr = acme._authzr_from_response(acme._post_as_get(url), uri=url)
        challb = next(c for c in authzr.body.challenges if isinstance(c.chall, challenges.HTTP01))
        answer, validation = challb.chall.response_and_validation(jwk)
        token_dir = webroot / ".well-known" / "acme-challenge"
        token_dir.mkdir(parents=True, exist_ok=True)
        (token_dir / challb.chall.encode("token")).write_text(validation)
        acme.answer_challenge(challb, answer)
        while authzr.body.status not in (messages.STATUS_VALID, messages.STATUS_INVALID):
            time.sleep(0.05)
            authzr, _ = acme.poll(authzr)
        if authzr.body.status != messages.STATUS_VALID:
            raise RuntimeError(f"authorization failed: {authzr.body}")
    orderr = messages.OrderResource(body=body, uri=response.headers.get("Location"), csr_pem=pem)
    orderr = acme.begin_finalization(orderr)
    while orderr.body.status != messages.STATUS_VALID:
        time.sleep(0.05)
        orderr = orderr.update(body=messages.Order.from_json(acme._post_as_get(orderr.uri).json()))
    cert = acme._post_as_get(orderr.body.certificate).text
    return x509.load_pem_x509_certificate(cert.encode())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    enter_private_netns()
    base = Path(tempfile.mkdtemp(prefix="bench-replaces-"))
    bed = _start_acme_bed(base / "bed", pebble_binary=str(PEBBLE26))
    try:
        certbot = str(Path(sys.executable).parent / "certbot")
        env = dict(os.environ, REQUESTS_CA_BUNDLE=str(bed.pebble.listener_ca))
        certbot_times = []
        for i in range(args.runs):
            work = base / f"certbot{i}"
            work.mkdir()
            (work / "csr.pem").write_bytes(csr_pem())
            argv = [certbot, "certonly", "--non-interactive", "--agree-tos", "--register-unsafely-without-email",
                    "--server", bed.pebble.directory_url, "--config-dir", str(work / "c"), "--work-dir",
                    str(work / "w"), "--logs-dir", str(work / "l"), "--csr", str(work / "csr.pem"),
                    "--cert-path", str(work / "cert.pem"), "--chain-path", str(work / "chain.pem"),
                    "--fullchain-path", str(work / "fullchain.pem"),
                    *bed.plugin_args(webroot_map={NAME: str(bed.webroot)}, dns=False)]
            if i:  # the account exists after the first run, as on a central host
                argv = [a for a in argv if a != "--register-unsafely-without-email"]
                argv[argv.index("--config-dir") + 1] = str(base / "certbot0" / "c")
            start = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
            took = time.perf_counter() - start
            assert proc.returncode == 0, proc.stderr[-3000:]
            certbot_times.append(took)

        start = time.perf_counter()
        jwk = jose.JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        net = client.ClientNetwork(jwk, user_agent="safedeploy-bench", verify_ssl=str(bed.pebble.listener_ca))
        acme = client.ClientV2(client.ClientV2.get_directory(bed.pebble.directory_url, net), net)
        acme.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
        account_time = time.perf_counter() - start
        direct_times, plain_times, ids = [], [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            previous = direct_order(acme, jwk, bed.webroot, None)
            plain_times.append(time.perf_counter() - start)
            replaced = cert_id(previous)
            start = time.perf_counter()
            replacement = direct_order(acme, jwk, bed.webroot, replaced)
            direct_times.append(time.perf_counter() - start)
            ids.append(replaced)
        try:
            direct_order(acme, jwk, bed.webroot, ids[0])
            twice = "accepted (pebble does not refuse a second replacement)"
        except errors.Error as exc:
            twice = f"refused: {type(exc).__name__}: {str(exc) or repr(exc)}"[:200]
        try:
            direct_order(acme, jwk, bed.webroot, cert_id(replacement))
            chained = "accepted"
        except errors.Error as exc:
            chained = f"refused: {type(exc).__name__}: {str(exc) or repr(exc)}"[:200]
    finally:
        _stop(bed)
    c, d = statistics.median(certbot_times), statistics.median(direct_times)
    print(f"certbot runs: {', '.join(f'{t:.2f}' for t in certbot_times)} s")
    print(f"pebble 2.6, http-01 through nginx, {args.runs} issuances each (median)")
    print(f"certbot certonly --csr -a safedeploy (process, its 1 s + 1 s polling sleeps): {c:.2f} s per issuance")
    print(f"acme library directly, newOrder with replaces (50 ms polling, in-process):   {d:.2f} s per issuance "
          f"(certbot/direct {c / d:.1f}); account once: {account_time:.2f} s")
    print(f"acme library directly, newOrder without replaces:                         "
          f"{statistics.median(plain_times):.2f} s per issuance")
    print(f"replaces accepted for {len(ids)} orders; replacing the same certificate twice: {twice}")
    print(f"replacing a certificate that was itself a replacement: {chained}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
