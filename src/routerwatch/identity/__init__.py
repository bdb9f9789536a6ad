"""Device identity: vendor names, hardware revisions, model keys and firmware version schemes.

Public API (see docs/identity.md):

* ``canonical_vendor(text)``, ``nvd_vendor_ids(display)`` -- routerwatch.identity.vendors
* ``normalize_hardware(text)``, ``split_product(product)``, ``model_key(text)`` -- .hardware
* ``parse_identity(text=None, *, vendor, model, hardware, firmware, region)`` -- .parse
* ``parse_version(vendor, text)``, ``compare_versions(vendor, a, b)``, ``FirmwareVersion``
  -- .versions
"""

from routerwatch.identity.hardware import model_key, normalize_hardware, split_product
from routerwatch.identity.parse import parse_identity
from routerwatch.identity.vendors import canonical_vendor, nvd_vendor_ids
from routerwatch.identity.versions import FirmwareVersion, compare_versions, parse_version

__all__ = [
    "FirmwareVersion",
    "canonical_vendor",
    "compare_versions",
    "model_key",
    "normalize_hardware",
    "nvd_vendor_ids",
    "parse_identity",
    "parse_version",
    "split_product",
]
