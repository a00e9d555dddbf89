"""What a Hetzner Cloud project offers: locations, server types and system images.

A small, fixed subset of the real catalogue (names, sizes and prices as Hetzner lists them), in
the shapes of `../shared/specs/hetzner-cloud.json`. Only `debian-12` boots here: every server is
a container of the local image `jarvis-test/server:3`; the other images exist so that a
manifest naming them plans, and creating from one fails the way an unavailable image would.
"""

from __future__ import annotations

from typing import Any

CREATED = "2024-01-01T00:00:00Z"

LOCATIONS: list[dict[str, Any]] = [
    {"id": 1, "name": "fsn1", "description": "Falkenstein DC Park 1", "country": "DE", "city": "Falkenstein",
     "latitude": 50.47612, "longitude": 12.370071, "network_zone": "eu-central"},
    {"id": 2, "name": "nbg1", "description": "Nuremberg DC Park 1", "country": "DE", "city": "Nuremberg",
     "latitude": 49.452102, "longitude": 11.076665, "network_zone": "eu-central"},
    {"id": 3, "name": "hel1", "description": "Helsinki DC Park 1", "country": "FI", "city": "Helsinki",
     "latitude": 60.169855, "longitude": 24.938379, "network_zone": "eu-central"},
]


def _price(location: str, hourly: str, monthly: str) -> dict[str, Any]:
    return {"location": location, "price_hourly": {"net": hourly, "gross": hourly},
            "price_monthly": {"net": monthly, "gross": monthly},
            "included_traffic": 21990232555520, "price_per_tb_traffic": {"net": "1.0000", "gross": "1.0000"}}


def _server_type(id_: int, name: str, cores: int, memory: float, disk: int, hourly: str, monthly: str,
                 cpu_type: str = "shared") -> dict[str, Any]:
    return {"id": id_, "name": name, "description": name.upper(), "category": "Shared vCPU" if cpu_type == "shared"
            else "Dedicated vCPU", "cores": cores, "memory": memory, "disk": disk, "cpu_type": cpu_type,
            "storage_type": "local", "architecture": "x86", "deprecated": False, "deprecation": None,
            "prices": [_price(loc["name"], hourly, monthly) for loc in LOCATIONS],
            # `available` and `recommended` are newer than the spec file; the API sends them and the
            # official client (hcloud 2.27) requires them
            "locations": [{"id": loc["id"], "name": loc["name"], "deprecation": None, "available": True,
                           "recommended": True} for loc in LOCATIONS]}


SERVER_TYPES: list[dict[str, Any]] = [
    _server_type(22, "cx22", 2, 4.0, 40, "0.0060", "3.7900"),
    _server_type(23, "cx32", 4, 8.0, 80, "0.0110", "6.8000"),
    _server_type(24, "cx42", 8, 16.0, 160, "0.0270", "16.4000"),
    _server_type(96, "ccx13", 2, 8.0, 80, "0.0230", "13.1000", cpu_type="dedicated"),
]


def _image(id_: int, name: str, flavor: str, version: str, bootable: bool) -> dict[str, Any]:
    return {"id": id_, "name": name, "description": f"{flavor.capitalize()} {version}", "type": "system",
            "status": "available", "os_flavor": flavor, "os_version": version, "architecture": "x86",
            "image_size": None, "disk_size": 5, "created": CREATED, "created_from": None, "bound_to": None,
            "deleted": None, "deprecated": None, "labels": {}, "protection": {"delete": False},
            "rapid_deploy": bootable}


IMAGES: list[dict[str, Any]] = [
    _image(114690387, "debian-12", "debian", "12", True),
    _image(161547269, "ubuntu-24.04", "ubuntu", "24.04", False),
]
BOOTABLE = {"debian-12"}


def find(items: list[dict[str, Any]], key: Any) -> dict[str, Any] | None:
    """An item by name or by id (the API accepts either wherever it takes a reference)."""
    for item in items:
        if str(item["id"]) == str(key) or item["name"] == key:
            return item
    return None


def datacenter(location: dict[str, Any]) -> dict[str, Any]:
    ids = [t["id"] for t in SERVER_TYPES]
    return {"id": location["id"], "name": f"{location['name']}-dc{location['id'] + 7}",
            "description": f"{location['city']} 1 virtual DC", "location": location,
            "server_types": {"supported": ids, "available": ids, "available_for_migration": ids}}
