"""Microsoft Advertising time zone names -> IANA zones.

Microsoft writes time zones two ways: the API enum (``PacificTimeUSCanadaTijuana``, in
account and campaign settings, Fivetran's ``account_history.time_zone``) and the display
text in the report preamble (``Time Zone: (GMT-08:00) Pacific Time (US & Canada);
Tijuana``). Both reduce to the same letters once the ``(GMT±hh:mm)`` prefix and the
punctuation are dropped, so one table serves both. IANA names are accepted as they are.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# (enum name, report display text, IANA zone): the common zones of ad accounts.
ZONES: tuple[tuple[str, str, str], ...] = (
    (
        "PacificTimeUSCanadaTijuana",
        "(GMT-08:00) Pacific Time (US & Canada); Tijuana",
        "America/Los_Angeles",
    ),
    ("MountainTimeUSCanada", "(GMT-07:00) Mountain Time (US & Canada)", "America/Denver"),
    ("Arizona", "(GMT-07:00) Arizona", "America/Phoenix"),
    ("CentralTimeUSCanada", "(GMT-06:00) Central Time (US & Canada)", "America/Chicago"),
    ("EasternTimeUSCanada", "(GMT-05:00) Eastern Time (US & Canada)", "America/New_York"),
    ("IndianaEast", "(GMT-05:00) Indiana (East)", "America/Indiana/Indianapolis"),
    ("AtlanticTimeCanada", "(GMT-04:00) Atlantic Time (Canada)", "America/Halifax"),
    ("Alaska", "(GMT-09:00) Alaska", "America/Anchorage"),
    ("Hawaii", "(GMT-10:00) Hawaii", "Pacific/Honolulu"),
    (
        "GuadalajaraMexicoCityMonterrey",
        "(GMT-06:00) Guadalajara, Mexico City, Monterrey",
        "America/Mexico_City",
    ),
    ("BogotaLimaQuito", "(GMT-05:00) Bogota, Lima, Quito", "America/Bogota"),
    ("Brasilia", "(GMT-03:00) Brasilia", "America/Sao_Paulo"),
    (
        "BuenosAiresGeorgetown",
        "(GMT-03:00) Buenos Aires, Georgetown",
        "America/Argentina/Buenos_Aires",
    ),
    (
        "GreenwichMeanTimeDublinEdinburghLisbonLondon",
        "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London",
        "Europe/London",
    ),
    (
        "AmsterdamBerlinBernRomeStockholmVienna",
        "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        "Europe/Berlin",
    ),
    (
        "BrusselsCopenhagenMadridParis",
        "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris",
        "Europe/Paris",
    ),
    (
        "BelgradeBratislavaBudapestLjubljanaPrague",
        "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
        "Europe/Budapest",
    ),
    ("SarajevoSkopjeWarsawZagreb", "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb", "Europe/Warsaw"),
    ("AthensBuckarestIstanbul", "(GMT+02:00) Athens, Buckarest, Istanbul", "Europe/Athens"),
    (
        "HelsinkiKyivRigaSofiaTallinnVilnius",
        "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius",
        "Europe/Helsinki",
    ),
    ("Jerusalem", "(GMT+02:00) Jerusalem", "Asia/Jerusalem"),
    ("HararePretoria", "(GMT+02:00) Harare, Pretoria", "Africa/Johannesburg"),
    (
        "MoscowStPetersburgVolgograd",
        "(GMT+03:00) Moscow, St. Petersburg, Volgograd",
        "Europe/Moscow",
    ),
    ("AbuDhabiMuscat", "(GMT+04:00) Abu Dhabi, Muscat", "Asia/Dubai"),
    (
        "ChennaiKolkataMumbaiNewDelhi",
        "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        "Asia/Kolkata",
    ),
    ("BangkokHanoiJakarta", "(GMT+07:00) Bangkok, Hanoi, Jakarta", "Asia/Bangkok"),
    (
        "BeijingChongqingHongKongUrumqi",
        "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi",
        "Asia/Shanghai",
    ),
    ("KualaLumpurSingapore", "(GMT+08:00) Kuala Lumpur, Singapore", "Asia/Singapore"),
    ("Taipei", "(GMT+08:00) Taipei", "Asia/Taipei"),
    ("OsakaSapporoTokyo", "(GMT+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
    ("Seoul", "(GMT+09:00) Seoul", "Asia/Seoul"),
    ("Brisbane", "(GMT+10:00) Brisbane", "Australia/Brisbane"),
    ("CanberraMelbourneSydney", "(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
    ("AucklandWellington", "(GMT+12:00) Auckland, Wellington", "Pacific/Auckland"),
)

_PREFIX = re.compile(r"^\s*\((?:GMT|UTC)[^)]*\)\s*", re.IGNORECASE)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _PREFIX.sub("", text).lower())


_BY_KEY = {_key(enum): iana for enum, _display, iana in ZONES}
_DISPLAY = {iana: display for _enum, display, iana in ZONES}


def to_iana(name: str) -> str | None:
    """Enum name, display text or IANA name -> IANA name; ``None`` when unknown."""
    text = (name or "").strip()
    if not text:
        return None
    if "/" in text or text.upper() == "UTC":
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        return "UTC" if text.upper() == "UTC" else text
    return _BY_KEY.get(_key(text))


def display_text(iana: str) -> str:
    """The preamble text Microsoft prints for ``iana`` (the IANA name when not tabled)."""
    return _DISPLAY.get(iana, iana)
