"""Fixtures for the integration tests: a private network namespace and real servers."""

from __future__ import annotations

import pytest

from .netns import enter_private_netns


def pytest_collection_modifyitems(items):  # every test in this folder is an integration test
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def private_netns() -> None:
    enter_private_netns()


# --- the ACME bed: BIND primary + lagging secondary, nginx on pebble's http port, pebble ---
import dataclasses  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

from .acmebed import Certbot, Pebble  # noqa: E402
from .dnsbed import DnsBed  # noqa: E402
from .servers import Nginx, free_port  # noqa: E402

SECONDARY_LAG = 2.0  # seconds every zone change takes to reach ns2, at least


@dataclasses.dataclass
class AcmeBed:
    dns: DnsBed
    nginx: Nginx
    pebble: Pebble
    webroot: Path

    def plugin_args(self, *, webroot_map: dict[str, str] | None = None, dns: bool = True,
                    key_file: Path | None = None) -> list[str]:
        import json

        args = ["-a", "safedeploy", "--safedeploy-http-port", str(self.pebble.http_port),
                "--safedeploy-self-check-address", "127.0.0.1", "--safedeploy-propagation-timeout", "30"]
        if webroot_map:
            args += ["--safedeploy-webroot-map", json.dumps(webroot_map)]
        if dns:
            args += ["--safedeploy-nsupdate-server", "127.0.0.1", "--safedeploy-dns-port", str(self.dns.port),
                     "--safedeploy-tsig-key", str(key_file or self.dns.key_file)]
        return args


def _start_acme_bed(base: Path, *, eab: bool = False, pebble_binary: str = "pebble") -> AcmeBed:
    dns = DnsBed(base / "dns", lag=SECONDARY_LAG).start()
    webroot = base / "webroot"
    webroot.mkdir(parents=True)
    http_port = free_port()
    nginx = Nginx(base / "nginx", http_port=http_port, webroot=webroot).start()
    pebble = Pebble(base / "pebble", f"127.0.0.2:{dns.port}", http_port=http_port, eab=eab,
                    binary=pebble_binary).start()
    return AcmeBed(dns, nginx, pebble, webroot)


def _stop(bed: AcmeBed) -> None:
    bed.pebble.stop()
    bed.nginx.stop()
    bed.dns.stop()


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory, private_netns: None) -> Iterator[AcmeBed]:
    bed = _start_acme_bed(tmp_path_factory.mktemp("acme"))
    yield bed
    _stop(bed)


@pytest.fixture(scope="session")
def acme_eab(tmp_path_factory: pytest.TempPathFactory, private_netns: None) -> Iterator[AcmeBed]:
    bed = _start_acme_bed(tmp_path_factory.mktemp("acme-eab"), eab=True)
    yield bed
    _stop(bed)


@pytest.fixture
def certbot(acme: AcmeBed, tmp_path: Path) -> Certbot:
    return Certbot(tmp_path / "certbot", acme.pebble)
