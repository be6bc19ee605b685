"""What a renewal changes for one target, judged like the target's clients (pure).

The gate compares the leaf currently installed in a target's own files with the
new one, and turns the differences that break clients into findings:

* clientAuth dropped (Let's Encrypt ``classic`` since 2026-02-11) from a target the
  service uses as a client certificate: refused;
* Must-Staple (RFC 7633 TLS Feature ``status_request``, OID 1.3.6.1.5.5.7.1.24) without
  an OCSP URL (RFC 5280 §4.2.2.1 AIA): refused, nothing can be stapled;
* stapling configured and no OCSP URL: a warning naming the setting;
* a name dropped that the service or the target names: refused; other dropped names warn;
* key type or size changed: a warning, refused when ``key_types`` excludes the new type;
* a new issuer or intermediate: a warning naming both, and what the pins match.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Sequence

from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.leaffacts import LeafFacts
from certbot_safedeploy.verify.names import covers
from certbot_safedeploy.verify.report import Finding


@dataclasses.dataclass(frozen=True)
class Setting:
    """A service setting found in its configuration, with file and line."""

    service: str
    setting: str
    where: str
    value: str = ""

    def text(self) -> str:
        return f"{self.service} {self.setting} ({self.where})"


@dataclasses.dataclass(frozen=True)
class TargetContext:
    target: str
    lineage: str
    deployed_file: str  # the target's file the old leaf was read from
    uses: tuple[str, ...] = ("server",)
    key_types: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()
    client_settings: tuple[Setting, ...] = ()  # settings that present the certificate as a client
    staple_settings: tuple[Setting, ...] = ()  # ssl_stapling on, SSLUseStapling on
    listed_names: tuple[Setting, ...] = ()  # server_name, ServerName/ServerAlias, the probe's servername

    @property
    def used_as_client(self) -> bool:
        return "client" in self.uses or bool(self.client_settings)


@dataclasses.dataclass
class Changes:
    block: list[str]  # the difference, one line per changed fact (empty: nothing changed)
    findings: list[Finding]


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) or "none"


def _ekus(facts: LeafFacts) -> str:
    return ", ".join(facts.ekus) if facts.ekus else "any (no EKU extension)"


def difference(old: LeafFacts, new: LeafFacts) -> list[str]:
    """One line per fact that differs."""
    lines: list[str] = []
    added = [n for n in new.names if n not in old.names]
    dropped = [n for n in old.names if n not in new.names]
    if added or dropped:
        lines.append("names: " + " ".join([f"+{n}" for n in added] + [f"-{n}" for n in dropped]))
    if old.key != new.key:
        lines.append(f"key: {old.key} -> {new.key}")
    if old.issuer != new.issuer:
        lines.append(f"issuer: {old.issuer} -> {new.issuer}")
    if old.intermediate != new.intermediate:
        lines.append(f"intermediate: {old.intermediate or 'none'} -> {new.intermediate or 'none'}")
    if round(old.lifetime_days) != round(new.lifetime_days):
        lines.append(f"lifetime: {old.lifetime_days:.0f} -> {new.lifetime_days:.0f} days")
    if old.ekus != new.ekus:
        lines.append(f"extended key usage: {_ekus(old)} -> {_ekus(new)}")
    if old.must_staple != new.must_staple:
        lines.append(f"must-staple: {'yes' if old.must_staple else 'no'} -> {'yes' if new.must_staple else 'no'}")
    if old.ocsp_urls != new.ocsp_urls:
        lines.append(f"OCSP URL: {_names(old.ocsp_urls)} -> {_names(new.ocsp_urls)}")
    return lines


def compare(old: LeafFacts | None, new: LeafFacts, ctx: TargetContext, now: datetime.datetime) -> Changes:
    """The difference block and the findings for one target (``old`` None: nothing deployed yet)."""
    findings = _staple(new, ctx) + _key(old, new, ctx) + _client(old, new, ctx, now)
    if old is not None:
        findings += _names_dropped(old, new, ctx) + _issuer(old, new, ctx)
    return Changes(difference(old, new) if old is not None else [], findings)


def _client(old: LeafFacts | None, new: LeafFacts, ctx: TargetContext, now: datetime.datetime) -> list[Finding]:
    if not ctx.used_as_client or new.client_auth:
        return []
    how = "; ".join(s.text() for s in ctx.client_settings) or \
        f"target {ctx.target!r} declares uses = [\"server\", \"client\"]"
    settings = ", ".join(sorted({s.setting for s in ctx.client_settings})) or "that client setting"
    if old is not None and not old.client_auth:
        return [report.warning(ctx.deployed_file, "client-auth",
                               f"[{ctx.target}] is used as a client certificate ({how}) but neither the deployed "
                               "nor the new certificate has the clientAuth extended key usage",
                               f"give {settings} a client certificate from a private CA")]
    if old is not None:
        left = old.days_left(now)
        still = (f"the deployed certificate ({ctx.deployed_file}) still has clientAuth and is valid for "
                 f"{left:.0f} more days" if left > 0 else
                 f"the deployed certificate ({ctx.deployed_file}) has clientAuth but expired {-left:.0f} days ago")
    else:
        still = "nothing is deployed there yet"
    return [report.error(
        ctx.deployed_file, "client-auth",
        f"[{ctx.target}] the new certificate has no clientAuth extended key usage (EKU {_ekus(new)}), but it "
        f"is used as a client certificate: {how}; peers will refuse it. Kept the old files: {still}",
        f"point {settings} at a client certificate from a private CA (then drop \"client\" from uses), or issue "
        f"{ctx.lineage} from a CA profile that still includes clientAuth")]


def _staple(new: LeafFacts, ctx: TargetContext) -> list[Finding]:
    if new.ocsp_urls:
        return []
    out: list[Finding] = []
    if new.must_staple:
        out.append(report.error(
            ctx.deployed_file, "must-staple",
            f"[{ctx.target}] the new certificate requires OCSP stapling (TLS Feature status_request) but names "
            "no OCSP responder: nothing can be stapled and Firefox refuses it",
            f"re-issue without Must-Staple: set must_staple = False in renewal/{ctx.lineage}.conf, then "
            f"certbot renew --cert-name {ctx.lineage} --force-renewal"))
    for s in ctx.staple_settings:
        out.append(report.warning(
            s.where, "stapling",
            f"[{ctx.target}] {s.service} {s.setting} is on, but the new certificate has no OCSP URL: "
            "there is nothing to staple",
            f"turn {s.setting} off at {s.where}"))
    return out


def _key(old: LeafFacts | None, new: LeafFacts, ctx: TargetContext) -> list[Finding]:
    if ctx.key_types and new.key_type not in ctx.key_types:
        was = f" (the deployed one is {old.key})" if old else ""
        return [report.error(
            ctx.deployed_file, "key-type",
            f"[{ctx.target}] the new certificate has {_article(new.key)} {new.key} key{was}; the target accepts only "
            f"key_types = {list(ctx.key_types)}",
            f"certbot reconfigure --cert-name {ctx.lineage} --key-type {ctx.key_types[0]}, then "
            f"certbot renew --cert-name {ctx.lineage} --force-renewal")]
    if old is not None and old.key != new.key:
        return [report.warning(
            ctx.deployed_file, "key-type",
            f"[{ctx.target}] the key changes from {old.key} to {new.key}; clients that only speak "
            f"{old.key_type.upper()} will fail",
            f"set key_types = [\"{old.key_type}\"] on the target to refuse such a change, or keep it if "
            "every client supports the new key")]
    return []


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _names_dropped(old: LeafFacts, new: LeafFacts, ctx: TargetContext) -> list[Finding]:
    dropped = [n for n in old.names if not any(covers(san, n) for san in new.names)]
    out: list[Finding] = []
    for name in dropped:
        listed = [s for s in ctx.listed_names if covers(name, s.value) and not any(covers(n, s.value)
                                                                                for n in new.names)]
        if listed:
            out.append(report.error(
                ctx.deployed_file, "names",
                f"[{ctx.target}] the new certificate drops {name}, which {'; '.join(s.text() for s in listed)} "
                "still serves",
                f"re-issue with every name: certbot certonly --cert-name {ctx.lineage} -d ... -d {name}, "
                "or remove the name from the service first"))
        else:
            out.append(report.warning(ctx.deployed_file, "names",
                                      f"[{ctx.target}] the new certificate no longer covers {name}",
                                      "nothing to do if no client asks for it"))
    return out


def _pins_say(old: LeafFacts, new: LeafFacts, pins: Sequence[str]) -> str:
    if not pins:
        return "the target sets no pins"
    roles = ("the key", "the intermediate", "the root")
    said = []
    for pin in pins:
        where_new = [roles[min(i, 2)] for i, p in enumerate(new.chain_pins) if p == pin]
        where_old = [roles[min(i, 2)] for i, p in enumerate(old.chain_pins) if p == pin]
        if where_new:
            said.append(f"{pin[:20]}... pins {where_new[0]} of the new chain")
        elif where_old:
            said.append(f"{pin[:20]}... pinned {where_old[0]} of the old chain only")
        else:
            said.append(f"{pin[:20]}... is a backup pin")
    return "; ".join(said)


def _issuer(old: LeafFacts, new: LeafFacts, ctx: TargetContext) -> list[Finding]:
    if old.issuer == new.issuer and old.intermediate == new.intermediate:
        return []
    return [report.warning(
        ctx.deployed_file, "issuer",
        f"[{ctx.target}] the issuer changes from {old.intermediate or old.issuer} to "
        f"{new.intermediate or new.issuer}; {_pins_say(old, new, ctx.pins)}",
        "update pins and trust stores of clients that pin the old intermediate")]
