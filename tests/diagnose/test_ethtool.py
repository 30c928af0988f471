"""The ethtool adapter on a real veth, and on recorded outputs of e1000e, igb, ixgbe, mlx5."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from linkctl.kernel import ethtool as et
from linkctl.kernel import ethtool_settings as ets
from linkctl.kernel.ethtool import Ethtool

from .conftest import DATA, ip, kernel, recorded


@kernel
def test_veth_reads_in_its_namespace(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "ea", "type", "veth", "peer", "name", "eb")
    ip("-n", ns, "link", "set", "ea", "up")
    ip("-n", ns, "link", "set", "eb", "up")
    e = Ethtool("ea", ns)
    st = e.settings()
    assert st.speed == 10000 and st.duplex == "full" and st.link_detected is True
    assert e.driver().driver == "veth"
    assert "peer_ifindex" in e.statistics()
    feats = e.features()
    assert "generic-receive-offload" in feats and "tx-checksumming" in feats
    assert e.eee().supported is False  # veth: "Operation not supported"
    for read in (e.coalesce, e.rings, e.pause):
        with pytest.raises(et.Unsupported):
            read()


@kernel
def test_veth_feature_write_round_trip(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "ea", "type", "veth", "peer", "name", "eb")
    e = Ethtool("ea", ns)
    was = e.features()["generic-receive-offload"].active
    cmd = e.set_features({"rx-gro": not was})
    assert cmd == ["ip", "netns", "exec", ns, "ethtool", "-K", "ea", "rx-gro", "off" if was else "on"]
    assert e.features()[ets.feature_key("rx-gro")].active is (not was)


@kernel
def test_missing_link_is_named(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    with pytest.raises(et.EthtoolError, match="nolink"):
        Ethtool("nolink", ns).settings()


def test_e1000e_settings_with_partner_modes() -> None:
    st = Ethtool("eth0", runner=recorded("e1000e-eee-flap")).settings()
    assert (st.speed, st.duplex, st.autoneg, st.port) == (1000, "full", True, "Twisted Pair")
    assert st.advertised_modes == ("10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full", "1000baseT/Full")
    assert st.partner_modes[-1] == "1000baseT/Full" and st.partner_autoneg is True
    assert st.best_common() == (1000, "full")


def test_eee_on_and_off() -> None:
    on = Ethtool("eth0", runner=recorded("e1000e-eee-flap")).eee()
    assert (on.supported, on.enabled, on.active, on.tx_lpi_us) == (True, True, True, 17)
    assert on.partner_modes == ("100baseT/Full", "1000baseT/Full")
    off = Ethtool("eth1", runner=recorded("igb-bad-cable")).eee()
    assert (off.supported, off.enabled, off.active) == (True, False, False)
    inactive = Ethtool("enp1s0f0", runner=recorded("ixgbe")).eee()
    assert (inactive.enabled, inactive.active, inactive.partner_modes) == (True, False, ())


def test_half_duplex_and_partner_without_autoneg() -> None:
    st = Ethtool("eth0", runner=recorded("e1000e-duplex-mismatch")).settings()
    assert (st.speed, st.duplex) == (100, "half")
    assert st.partner_autoneg is False and st.partner_modes == () and st.best_common() is None


def test_speed_below_what_both_advertise() -> None:
    st = Ethtool("eth1", runner=recorded("igb-bad-cable")).settings()
    assert st.speed == 100 and st.best_common() == (1000, "full")
    ix = Ethtool("enp1s0f0", runner=recorded("ixgbe")).settings()
    assert ix.speed == 1000 and ix.best_common() == (10000, "full")


def test_pause_json_coalesce_and_rings_text_fallback() -> None:
    calls: list[list[str]] = []
    e = Ethtool("enp1s0f0", runner=recorded("ixgbe", calls), json_ok={})
    c = e.coalesce()
    assert c["rx-usecs"] == 1 and c["tx-usecs"] == 0 and c["tx-frames-irq"] == 256
    assert c["adaptive-rx"] is False and "rx-frames" not in c  # "n/a" is not a value
    # --json -c refused by ethtool 6.1: remembered, text used, not asked again
    e.coalesce()
    assert calls.count(["ethtool", "--json", "-c", "enp1s0f0"]) == 1
    r = e.rings()
    assert r.maximum == {"rx": 4096, "tx": 4096} and r.current == {"rx": 512, "tx": 512}
    p = Ethtool("eth0", runner=recorded("e1000e-duplex-mismatch"), json_ok={}).pause()
    assert (p.autoneg, p.rx, p.tx) == (True, False, False)


def test_mlx5_driver_stats_rings_json() -> None:
    e = Ethtool("ens1f0np0", runner=recorded("mlx5"), json_ok={})
    d = e.driver()
    assert (d.driver, d.firmware, d.bus_info) == ("mlx5_core", "16.35.2000 (MT_0000000080)", "0000:3b:00.0")
    s = e.statistics()
    assert s["rx_discards_phy"] == 23 and s["link_down_events_phy"] == 3
    st = e.settings()
    assert st.speed == 25000 and st.port == "Direct Attach Copper" and st.partner_modes == ()
    assert e.rings().current == {"rx": 1024, "tx": 1024}


def test_features_json_and_text_agree(make_netns: Callable[[], str] | None = None) -> None:
    rows = ets.parse_features((DATA / "e1000e-eee-flap" / "features.json").read_text())
    assert rows["tcp-segmentation-offload"].active and rows["large-receive-offload"].fixed
    text = "Features for eth0:\nrx-checksumming: on\nlarge-receive-offload: off [fixed]\n\ttx-tcp-segmentation: on\n"
    t = ets.parse_features(text)
    assert t["large-receive-offload"] == ets.Feature(False, True) and t["tx-tcp-segmentation"].active
