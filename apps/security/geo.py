"""Where an address is: the operator's MaxMind-format city database (HUB_GEOIP_DATABASE, e.g.
GeoLite2-City.mmdb), read with `maxminddb` (memory-mapped, one reader per process, opened again
when the file or the setting changes). Without a database, `place()` answers None and the rules
that need a place are off."""

import ipaddress
import math
import os
import threading
from dataclasses import dataclass

from django.conf import settings

_lock = threading.Lock()
_reader = None
_opened: tuple | None = None  # (path, mtime) of the open reader


@dataclass(frozen=True)
class Place:
    country: str  # ISO 3166-1 alpha-2, "" if unknown
    country_name: str
    city: str
    latitude: float | None
    longitude: float | None

    @property
    def words(self) -> str:
        return ", ".join(part for part in (self.city, self.country_name or self.country) if part) or "an unknown place"


def configured() -> bool:
    path = settings.HUB_GEOIP_DATABASE
    return bool(path) and os.path.isfile(path)


def _get_reader():
    global _reader, _opened
    path = settings.HUB_GEOIP_DATABASE
    if not path:
        return None
    try:
        stamp = (path, os.stat(path).st_mtime_ns)
    except OSError:
        return None
    if _opened != stamp:
        import maxminddb

        with _lock:
            if _opened != stamp:
                _reader, _opened = maxminddb.open_database(path), stamp
    return _reader


def _name(record: dict, key: str) -> str:
    names = (record.get(key) or {}).get("names") or {}
    return names.get("en") or next(iter(names.values()), "")


def place(ip: str | None) -> Place | None:
    """The place of `ip`, or None (no database, a private or unknown address, bad input)."""
    if not ip:
        return None
    reader = _get_reader()
    if reader is None:
        return None
    try:
        address = ipaddress.ip_address(ip)
        record = reader.get(address)
    except ValueError:
        return None
    if not record:
        return None
    location = record.get("location") or {}
    country = record.get("country") or record.get("registered_country") or {}
    return Place(
        country=country.get("iso_code", ""),
        country_name=_name(record, "country") or _name(record, "registered_country"),
        city=_name(record, "city"),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, Earth radius 6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def network_of(ip: str) -> str:
    """The network an address belongs to for the API-key rule: its /24 (IPv4) or /48 (IPv6)."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
