"""The `ethtool:` section of an interface and the top-level `kernel-modules:` section.

nmstate spells the ethtool section `pause`, `feature`, `coalesce`, `ring`; linkctl adds
`eee: {enabled}`, which nmstate does not have. A key the user did not write is left as
the driver has it.

`kernel-modules:` is linkctl's own: `{DRIVER: {parameters: {NAME: VALUE}}}`, rendered to
/etc/modprobe.d/linkctl-DRIVER.conf. Names and values are checked strictly here because
they end up in a modprobe.d file, where a newline would let a declaration add
`install` commands that modprobe runs as root.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from linkctl.model.spec_base import Section

# '_' too: the kernel's rx-udp_tunnel-port-offload and tx-udp_tnl-segmentation (net/ethtool/common.c).
_FEATURE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PARAM_TEXT = re.compile(r"^[A-Za-z0-9_.,:+\-]{1,256}$")
MODULE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,56}$")

U32 = Field(default=None, ge=0, le=2**32 - 1)


class PauseSection(Section):
    """Flow control (802.3x pause frames): `ethtool -A`."""

    autoneg: bool | None = None
    rx: bool | None = None
    tx: bool | None = None


class CoalesceSection(Section):
    """Interrupt coalescing (`ethtool -C`), every key nmstate knows."""

    adaptive_rx: bool | None = None
    adaptive_tx: bool | None = None
    pkt_rate_high: int | None = U32
    pkt_rate_low: int | None = U32
    rate_sample_interval: int | None = U32
    rx_frames: int | None = U32
    rx_frames_high: int | None = U32
    rx_frames_irq: int | None = U32
    rx_frames_low: int | None = U32
    rx_usecs: int | None = U32
    rx_usecs_high: int | None = U32
    rx_usecs_irq: int | None = U32
    rx_usecs_low: int | None = U32
    sample_interval: int | None = U32
    stats_block_usecs: int | None = U32
    tx_frames: int | None = U32
    tx_frames_high: int | None = U32
    tx_frames_irq: int | None = U32
    tx_frames_low: int | None = U32
    tx_usecs: int | None = U32
    tx_usecs_high: int | None = U32
    tx_usecs_irq: int | None = U32
    tx_usecs_low: int | None = U32


class RingSection(Section):
    """Descriptor ring sizes (`ethtool -G`)."""

    rx: int | None = Field(default=None, ge=1, le=2**32 - 1)
    rx_jumbo: int | None = Field(default=None, ge=0, le=2**32 - 1)
    rx_mini: int | None = Field(default=None, ge=0, le=2**32 - 1)
    tx: int | None = Field(default=None, ge=1, le=2**32 - 1)


class EeeSection(Section):
    """Energy-Efficient Ethernet (802.3az): `ethtool --set-eee`. linkctl's addition."""

    enabled: bool | None = None


class EthtoolSection(Section):
    pause: PauseSection | None = None
    feature: dict[str, bool] | None = None
    coalesce: CoalesceSection | None = None
    ring: RingSection | None = None
    eee: EeeSection | None = None

    @field_validator("feature")
    @classmethod
    def _features(cls, v: dict[str, bool] | None) -> dict[str, bool] | None:
        for name in v or {}:
            if not _FEATURE_NAME.match(name):
                raise ValueError(
                    f"feature {name!r}: a name as `ethtool -k` prints it "
                    "(lower case, digits, '-' and '_', such as rx-gro or rx-udp_tunnel-port-offload)"
                )
        return v


ParamValue = int | bool | str


class KernelModuleSpec(Section):
    parameters: dict[str, ParamValue] | None = None

    @field_validator("parameters")
    @classmethod
    def _params(cls, v: dict[str, ParamValue] | None) -> dict[str, ParamValue] | None:
        for name, value in (v or {}).items():
            if not _PARAM_NAME.match(name):
                raise ValueError(
                    f"parameter {name!r}: a module parameter name as "
                    "/sys/module/DRIVER/parameters lists it (letters, digits, '_')"
                )
            if isinstance(value, str) and not _PARAM_TEXT.match(value):
                raise ValueError(
                    f"parameter {name}: value {value!r}: a number, true/false, or a word "
                    "of letters, digits and . , : + - _ (arrays are comma-separated)"
                )
        return v


def render_param(value: ParamValue) -> str:
    """How modprobe and /sys spell a value: booleans as 1/0, which bool and int
    parameters both accept (sysfs prints bool parameters as Y/N)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
