"""MAC address and vendor of hosts on the same link, from the kernel's ARP table.

Nothing is sent: the table (``/proc/net/arp``) only holds hosts this machine already talked
to. Pure half: :func:`parse_arp_table`, :func:`mac_vendor` (netaddr's offline IEEE registry).
I/O half: :func:`read_arp_table`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import netaddr

ARP_TABLE = "/proc/net/arp"
_COMPLETE = 0x2  # ATF_COM


def parse_arp_table(text: str) -> dict[str, str]:
    """``/proc/net/arp`` text → {IP: MAC (lower case, colon-separated)} of complete entries."""
    out: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        ip, _hw_type, flags, mac = fields[:4]
        try:
            if not int(flags, 16) & _COMPLETE:
                continue
            eui = netaddr.EUI(mac)
            address = str(netaddr.IPAddress(ip))
        except (ValueError, netaddr.AddrFormatError):
            continue
        if int(eui) == 0:
            continue
        out[address] = str(eui).replace("-", ":").lower()
    return out


@functools.lru_cache(maxsize=4096)
def mac_vendor(mac: str) -> str | None:
    """The IEEE registrant of the MAC's OUI, None when unregistered or locally administered."""
    try:
        eui = netaddr.EUI(mac)
        if eui.words[0] & 0x02:  # locally administered (randomised) address
            return None
        return str(eui.oui.registration().org).strip() or None
    except (netaddr.NotRegisteredError, netaddr.AddrFormatError, ValueError, IndexError):
        return None


def read_arp_table(path: str | Path = ARP_TABLE) -> dict[str, str]:
    try:
        return parse_arp_table(Path(path).read_text(errors="replace"))
    except OSError:
        return {}
