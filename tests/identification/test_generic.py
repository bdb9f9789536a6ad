"""Generic identification (fingerprint/generic.py) on fields of real captures."""

from __future__ import annotations

from pathlib import Path

from routerwatch.fingerprint.engine import Fingerprinter
from routerwatch.fingerprint.generic import firmware_os, model_code, pen_vendor
from routerwatch.models import Observation, TlsCertificate, UpnpDescription, replace
from routerwatch.scan.probes.upnp import parse_description

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FP = Fingerprinter()


def _desc(rel: str) -> UpnpDescription:
    return parse_description((CAPTURES / rel).read_bytes())


def test_description_tree_and_tr064_firmware() -> None:
    tr64 = _desc("fritzconnection-avm-fritzbox-7590/tr64desc.xml")
    assert tr64.manufacturer == "AVM"
    assert tr64.firmware == "154.07.10"  # <systemVersion><Display>
    assert tr64.udn and tr64.udn.startswith("uuid:")
    assert [d.device_type.rsplit(":", 2)[-2] for d in tr64.embedded if d.device_type] == [
        "LANDevice",
        "WANDevice",
        "WANConnectionDevice",
    ]


def test_upnp_manufacturer_spelling_and_model() -> None:
    igd = _desc("fritzconnection-avm-fritzbox-7590/igddesc.xml")
    assert igd.manufacturer == "AVM Berlin"
    ident = FP.identify(Observation(address="x", upnp=igd))
    assert (ident.vendor, ident.model) == ("AVM", "FRITZ!Box 7590")


def test_identity_follows_the_data_not_a_rule() -> None:
    """Renaming the device in its own description renames the identity."""
    d = _desc("aioupnp-actiontec-gt784wn/description.xml")
    assert FP.identify(Observation(address="x", upnp=d)).model == "GT784WN"
    other = replace(d, manufacturer="Sagemcom Broadband SAS", model_name="F@st 5366", embedded=())
    ident = FP.identify(Observation(address="x", upnp=other))
    assert (ident.vendor, ident.model) == ("Sagemcom", "F@ST 5366")


def test_generic_names_are_not_models() -> None:
    d = UpnpDescription(manufacturer="Actiontec", model_name="(null)", model_number="1.0")
    ident = FP.identify(Observation(address="x", upnp=d))
    assert ident.vendor == "Actiontec" and ident.model is None


def test_firmware_os_is_not_the_vendor() -> None:
    assert firmware_os("POSIX UPnP/1.0 DD-WRT Linux/V24") == "DD-WRT"
    assert firmware_os("OpenWRT/kamikaze UPnP/1.0 MiniUPnPd/1.5") == "OpenWrt"
    assert firmware_os("Linux UPnP/1.0 Huawei-ATP-IGD") is None
    alone = FP.identify(
        Observation(address="x", upnp=UpnpDescription(server="POSIX UPnP/1.0 DD-WRT Linux/V24"))
    )
    assert (alone.vendor, alone.os) == ("DD-WRT", "DD-WRT")
    both = FP.identify(
        Observation(
            address="x",
            upnp=UpnpDescription(
                server="POSIX UPnP/1.0 DD-WRT Linux/V24",
                manufacturer="Linksys",
                model_name="WRT54GL",
            ),
        )
    )
    assert (both.vendor, both.model, both.os) == ("Linksys", "WRT54GL", "DD-WRT")


def test_snmp_enterprise_number_and_tls_organisation() -> None:
    assert pen_vendor("1.3.6.1.4.1.2011.2.23.276") == "Huawei"
    assert pen_vendor("1.3.6.1.4.1.8072.3.2.10") is None  # net-snmp: says nothing of the maker
    assert pen_vendor("not an oid") is None
    ident = FP.identify(Observation(address="x", snmp_sysobjectid="1.3.6.1.4.1.4881.1.1.10.1.165"))
    assert ident.vendor == "Ruijie"
    cert = TlsCertificate(port=8443, subject="O=Technicolor,L=Edegem,ST=Antwerp,C=BE", issuer="")
    assert FP.identify(Observation(address="x", tls=(cert,))).vendor == "Technicolor"


def test_sysdescr_model_code_abstains_on_versions_speeds_and_image_names() -> None:
    # sysDescr texts outside tests/captures: Recog snmp_sysdescr.xml examples (BSD-2-Clause)
    # and etingof/snmpsim-data recordings (BSD-2-Clause) that the corpus does not hold.
    wrong_before = {
        # release number after "Release" (snmpsim network/switch/h3c-comware-7-1-075)
        "H3C Comware Platform Software, Software Version 7.1.075, Release 7751P01": None,
        # image name in "Software (...)" (Recog: Cisco NX-OS ucs)
        "Cisco NX-OS(tm) ucs, Software (ucs-6100-k9-system), Version 5.0(3)N2(2.1s)": None,
        # a link speed (Recog: Brocade SAN switch module)
        "Brocade 4Gb SAN Switch Module for IBM eServer BladeCenter": None,
        # release tags of IOS-XE (Recog)
        "Cisco IOS Software, IOS-XE Software (PPC_LINUX_IOSD-ADVENTERPRISEK9-M), "
        "Version 15.1(3)S2, RELEASE SOFTWARE (fc1)": None,
        # the word after "Version" (Recog: Cisco 761)
        "Cisco 761 Software Version c760-i.b.NET3 4.2(3)": None,
        # a speed does not join the model (Recog: Juniper EX2500)
        "Juniper Networks EX2500 10GbE Switch, SW Version 3.1R1.0": "EX2500",
        # the product number, not the radio type "10ag" (Recog: ProCurve AP 10ag)
        "ProCurve Access Point 10ag WW J9141A, revision WM.01.11": "J9141A",
    }
    for text, want in wrong_before.items():
        assert model_code(text) == want, text
    kept = {
        "Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5": "C3750",
        "ZTE Ethernet Switch  ZXR10 5250-52TM-H, Version: V2.05.11B19": "ZXR10 5250-52TM-H",
        "Juniper Networks, Inc MX-8 7.6.2.3 REL": "MX-8",
        "ArubaOS (MODEL: Aruba7210), Version 6.5.1.6 (60228)": "Aruba7210",
    }
    for text, want in kept.items():
        assert model_code(text) == want, text


def test_firmware_project_in_upnp_model_fields() -> None:
    # aioupnp replay "NewMedia-NET GmbH Generic X86" (MIT): DD-WRT names itself in modelNumber.
    desc = UpnpDescription(
        manufacturer="NewMedia-NET GmbH",
        model_name="Generic X86",
        model_number="DD-WRT v24 (05/20/08)",
    )
    ident = Fingerprinter().identify(Observation(address="192.0.2.1", upnp=desc))
    assert ident.os == "DD-WRT"
    plain = replace(desc, manufacturer="Example Corp", model_number="1.0")
    assert Fingerprinter().identify(Observation(address="192.0.2.1", upnp=plain)).os is None


def test_cast_device_certificate_names_no_maker() -> None:
    # Recog x509_subjects.xml (BSD-2-Clause): a Vizio TV's Google Cast certificate.
    cert = TlsCertificate(
        8443,
        "CN=9V039WC9 FA8FCA697898,OU=Cast TV (Vizio),O=Google Inc,L=Mountain View,"
        "ST=California,C=US",
        "CN=Chromecast ICA 9,OU=Cast,O=Google Inc,L=Mountain View,ST=California,C=US",
    )
    ident = Fingerprinter(use_recog=False).identify(Observation(address="x", tls=(cert,)))
    assert ident.vendor is None
    own = TlsCertificate(443, "CN=router,O=ZyXEL Communications Corp.", "")
    assert Fingerprinter(use_recog=False).identify(
        Observation(address="x", tls=(own,))
    ).vendor == "Zyxel"
