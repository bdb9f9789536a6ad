"""The router lab: emulated SOHO routers and hostile hosts on loopback addresses.

Device profiles are data (``lab/devices/*.yaml`` with bodies in ``lab/pages/``); one asyncio
loop in a background thread serves every device. See docs/lab.md.
"""

from routerwatch.lab.profiles import DeviceProfile, ProfileError, load_profiles
from routerwatch.lab.runner import Lab, LabBindError, LabDevice, lab_addresses

__all__ = [
    "DeviceProfile",
    "Lab",
    "LabBindError",
    "LabDevice",
    "ProfileError",
    "lab_addresses",
    "load_profiles",
]
