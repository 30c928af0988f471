"""The settings outside RTNETLINK as the system reports them: ethtool sections of links, kernel
modules with their parameters and modprobe.d files.

kernel/settings_io.py reads what a `SettingsQuery` asks for into a `SettingsState`; the settings
planner (plan/settings.py) compares it with a declaration, or with the values a rollback puts
back. Plain values only: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linkctl.model.state import NetnsName

# (netns, link, section): section is one of SECTIONS.
SectionKey = tuple[NetnsName, str, str]
SECTIONS = ("eee", "pause", "feature", "coalesce", "ring", "ethernet")


@dataclass(frozen=True)
class SectionReading:
    """One ethtool section of one link, or why it cannot be read."""

    values: Mapping[str, Any] = field(default_factory=dict)  # features by their `ethtool -k` name
    fixed: frozenset[str] = frozenset()  # features the driver will not change
    maximum: Mapping[str, int] = field(default_factory=dict)  # ring sizes' upper bounds
    unsupported: bool = False  # the driver answers "Operation not supported"
    error: str | None = None  # any other refusal, as ethtool words it

    def value(self, section: str, key: str) -> Any:
        """The value now under the declaration's spelling of `key`."""
        return self.values.get(feature_key(key) if section == "feature" else key)

    def has(self, section: str, key: str) -> bool:
        return (feature_key(key) if section == "feature" else key) in self.values


@dataclass(frozen=True)
class ParamReading:
    """One /sys/module/DRIVER/parameters/NAME file."""

    value: str | None  # None when it cannot be read
    writable: bool


@dataclass(frozen=True)
class ModuleReading:
    """A kernel module as the settings planner needs it."""

    conf_path: str  # linkctl's own modprobe.d file for it
    conf_text: str | None  # None: that file does not exist
    param_dir: str  # /sys/module/DRIVER/parameters
    loaded: bool
    params: Mapping[str, ParamReading] = field(default_factory=dict)
    known: frozenset[str] | None = None  # what `modinfo -p` lists; None when it cannot tell
    # Every other modprobe.d file with its text; None when the directory cannot be read.
    others: tuple[tuple[str, str | None], ...] | None = ()
    # Built into the kernel (or a kernel that loads no modules): never loaded, so modprobe.d never
    # applies; only what /sys lets be written at runtime can be set.
    builtin: bool = False
    # False on a kernel that loads no modules and has no /sys/module/DRIVER: a built-in driver
    # with parameters always has one, so nothing there takes them.
    present: bool = True


@dataclass(frozen=True)
class SettingsQuery:
    """What to read: sections of links, modules (and whether to ask `modinfo`), single files."""

    sections: tuple[SectionKey, ...] = ()
    modules: tuple[tuple[str, bool], ...] = ()
    files: tuple[str, ...] = ()  # modprobe.d files, by path
    params: tuple[str, ...] = ()  # /sys module parameters, by path


@dataclass
class SettingsState:
    sections: dict[SectionKey, SectionReading] = field(default_factory=dict)
    modules: dict[str, ModuleReading] = field(default_factory=dict)
    files: dict[str, str | None] = field(default_factory=dict)  # None: no such file
    params: dict[str, str | None] = field(default_factory=dict)  # None: cannot be read


# ethtool -k prints some features under legacy names; -K takes both spellings, but the
# declaration may use either, so comparing needs the mapping (kernel name -> -k name).
FEATURE_ALIASES = {
    "rx-checksum": "rx-checksumming",
    "rx": "rx-checksumming",
    "tx": "tx-checksumming",
    "sg": "scatter-gather",
    "tso": "tcp-segmentation-offload",
    "tx-generic-segmentation": "generic-segmentation-offload",
    "gso": "generic-segmentation-offload",
    "rx-gro": "generic-receive-offload",
    "gro": "generic-receive-offload",
    "rx-lro": "large-receive-offload",
    "lro": "large-receive-offload",
    "rx-vlan-hw-parse": "rx-vlan-offload",
    "rxvlan": "rx-vlan-offload",
    "tx-vlan-hw-insert": "tx-vlan-offload",
    "txvlan": "tx-vlan-offload",
    "rx-ntuple-filter": "ntuple-filters",
    "ntuple": "ntuple-filters",
    "rx-hashing": "receive-hashing",
    "rxhash": "receive-hashing",
}


def feature_key(name: str) -> str:
    return FEATURE_ALIASES.get(name, name)
