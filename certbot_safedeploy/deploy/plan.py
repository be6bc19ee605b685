"""Turn verified lineage material and the config's targets into files to write."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from certbot_safedeploy.config.target_section import Target
from certbot_safedeploy.system.fsutil import FileSpec, gid_of, uid_of
from certbot_safedeploy.verify.lineagecheck import VerifiedLineage


@dataclasses.dataclass(frozen=True)
class PlannedFile:
    target: str
    dest: str
    data: bytes
    spec: FileSpec
    content: tuple[str, ...]

    def describe(self) -> str:
        extra = f" +acl read uids {list(self.spec.acl_read_uids)}" if self.spec.acl_read_uids else ""
        return (f"{self.dest} <- {'+'.join(self.content)} "
                f"(uid {self.spec.uid}, gid {self.spec.gid}, mode {self.spec.mode:04o}{extra})")


def build_plan(targets: Sequence[Target], material: VerifiedLineage) -> list[PlannedFile]:
    """Files for every target; raises InstallError for unknown users or groups."""
    plan: list[PlannedFile] = []
    for target in targets:
        spec_base = FileSpec(
            uid=uid_of(target.owner),
            gid=gid_of(target.group),
            acl_read_uids=tuple(uid_of(u) for u in target.acl_read),
        )
        for f in target.files:
            data = b"".join(material.part(p) for p in f.content)
            plan.append(PlannedFile(target.name, f.path, data,
                                    dataclasses.replace(spec_base, mode=f.mode), f.content))
    return plan
