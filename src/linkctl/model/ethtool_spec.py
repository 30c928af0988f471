"""The `ethtool:` section of an interface and the top-level `kernel-modules:` section.

nmstate spells the ethtool section `pause`, `feature`, `coalesce`, `ring`; linkctl adds
`eee`. (Filled in by the remediation work; see issue 5.)
"""

from __future__ import annotations

from linkctl.model.spec_base import Section


class EthtoolSection(Section):
    pass


class KernelModuleSpec(Section):
    parameters: dict[str, int | str | bool] | None = None
