"""Synthetic identities for demo leads: click ids, emails and phone numbers, unique per lead.

Nothing here is real. Names and company domains come from fixed lists; which name, domain and
number a lead gets is a bijective scramble of its lead number (and the seed), so two leads never
share an email or a phone number at any size, and the same (seed, lead) always gets the same ones.
Click ids are random url-safe base64 strings drawn from the world's random stream (360 random bits
each: a collision is as likely as guessing a private key).
The strings are assembled by DuckDB when the CSV is written (`email_sql`, `phone_sql`), from the
small integer codes computed here, so millions of leads cost a fraction of a second.
"""

from __future__ import annotations

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words("""
james olivia oliver amelia jack isla harry ava george mia noah emily charlie grace jacob sophie thomas lily
oscar freya william evie leo ella henry poppy archie chloe joshua jessica daniel ruby samuel sophia liam aoife
sean niamh conor ciara cian saoirse patrick siobhan michael sarah david emma john anna robert laura matthew
hannah andrew rachel ryan megan lukas lena felix mila jonas lea paul marie maximilian julia finn clara elias
emilia ben johanna hugo louise louis ines jules alice gabriel manon arthur camille raphael zoe nathan jade
lucas sanne daan fenna sem tess luuk bram noor thijs evi ruben isa priya arjun aisha omar fatima
yusuf zara rohan meera kwame amara chen wei yuki hiro sofia mateo lucia diego elena marco giulia
katie tom lucy sam holly
""")
LAST_NAMES = _words("""
smith jones taylor brown williams wilson johnson davies robinson wright thompson evans walker white roberts
green hall wood jackson clarke patel khan lewis james phillips mason mitchell rose davis rodriguez cox
alexander murphy kelly byrne ryan obrien walsh oconnor mccarthy doyle kennedy lynch murray quinn moore
mcgrath miller garcia martinez anderson thomas hernandez lopez gonzalez harris martin lee perez clark
ramirez young allen king scott hill adams baker nelson carter muller schmidt schneider fischer weber meyer
wagner becker schulz hoffmann koch richter klein wolf schroder neumann braun zimmermann bernard dubois
durand lefebvre leroy moreau simon laurent michel garnier fontaine rousseau vincent dejong devries
vandenberg vandijk bakker janssen visser smit meijer mulder bos vos peters hendriks dekker brouwer
dijkstra singh shah ahmed ali hussain begum rahman chowdhury
hughes edwards
""")
COMPANY_STEMS = _words("""
acme northwind brightpath bluepeak cobalt evergreen fairway granite harbour ironbridge juniper keystone
lumen meridian nimbus oakfield pinnacle quarry redwood silverline thistle upland vantage westbrook
yellowstone zenith albion castle delta ember foxglove highland
""")
COMPANY_SUFFIXES = _words("""
analytics labs group systems solutions partners digital consulting media software tech data health
finance retail logistics studio works capital ventures networks cloud energy foods learning legal
marketing engineering security design holdings services
""")
FREE_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk")
COUNTRY_TLDS = ("co.uk", "ie", "com", "de", "fr", "nl")  # in the order of COUNTRIES: GB IE US DE FR NL
US_AREA_CODES = ("212", "213", "305", "312", "404", "415", "512", "617", "646", "702", "713", "718", "720",
                 "737", "773", "818", "858", "917", "919", "206")
DE_MOBILE_PREFIXES = ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "175",
                      "176", "177", "178", "179")
IE_MOBILE_PREFIXES = ("3", "5", "6", "7", "9")  # 083, 085, 086, 087, 089
# Phone numbers per country: how many distinct numbers the format below allows (GB IE US DE FR NL).
PHONE_CAPACITY = (10**9, 5 * 10**7, 20 * 800 * 10**4, 16 * 10**8, 2 * 10**8, 10**8)
CLICK_ID_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
CLICK_ID_LENGTH = 60
GCLID_PREFIX, FBCLID_PREFIX = "Cj0KCQiA", "IwAR"

_M32 = np.uint64(0xFFFFFFFF)


def _fmix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: a bijection of [0, 2^32)."""
    x = x.astype(np.uint64) & _M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & _M32
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & _M32
    x ^= x >> np.uint64(16)
    return x


def _key(seed: int, tag: int) -> np.uint64:
    return np.uint64(int(_fmix32(np.array([(seed * 0x9E3779B9 + tag) & 0xFFFFFFFF]))[0]))


def _permute(x: np.ndarray, limit: int, key: np.uint64) -> np.ndarray:
    """A bijection of [0, limit) (x must lie in it): an invertible mix of [0, 2^bits), cycle-walked into range."""
    bits = max(int(limit - 1).bit_length(), 8)
    mask = np.uint64((1 << bits) - 1)
    half, third = np.uint64(bits // 2), np.uint64(bits // 3 + 1)
    key = key & mask

    def mix(v: np.ndarray) -> np.ndarray:
        v = (v * np.uint64(0x2545F491) + key) & mask  # odd multiplier: a bijection mod 2^bits
        v ^= v >> half
        v = (v * np.uint64(0x9E3779B1)) & mask
        v ^= v >> third
        return v

    out = mix(x.astype(np.uint64))
    out_of_range = out >= np.uint64(limit)
    while out_of_range.any():  # the cycle through x returns into range; a few rounds at most
        out[out_of_range] = mix(out[out_of_range])
        out_of_range = out >= np.uint64(limit)
    return out.astype(np.int64)


def email_codes(lead_no: np.ndarray, free: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Integer codes of each lead's email: first and last name, domain (business: stem x suffix; free: one of
    FREE_DOMAINS) and a number. All 32 bits of a bijective hash are used, so emails are unique."""
    h = _fmix32(lead_no.astype(np.uint64) ^ _key(seed, 1)).astype(np.int64)
    first, last = h & 127, (h >> 7) & 127
    domain = np.where(free == 1, (h >> 14) & 3, (h >> 14) & 1023)
    number = np.where(free == 1, h >> 16, h >> 24) + 1
    return {"e_first": first, "e_last": last, "e_domain": domain, "e_number": number}


def email_sql(country: str = "country_code", free: str = "free") -> str:
    """DuckDB expression for the email from the columns email_codes() makes (e_first < 0 = blank)."""
    stems = [f"{stem}-{suffix}" for stem in COMPANY_STEMS for suffix in COMPANY_SUFFIXES]
    return (
        f"CASE WHEN e_first >= 0 THEN {_list(FIRST_NAMES)}[e_first + 1] || '.' || {_list(LAST_NAMES)}[e_last + 1]"
        f" || e_number::VARCHAR || '@' || CASE WHEN {free} = 1 THEN {_list(FREE_DOMAINS)}[e_domain + 1]"
        f" ELSE {_list(stems)}[e_domain + 1] || '.' || {_list(COUNTRY_TLDS)}[{country} + 1] END END"
    )


def phone_codes(lead_no: np.ndarray, country: np.ndarray, seed: int) -> np.ndarray:
    """Each lead's phone number as an integer below its country's PHONE_CAPACITY, unique per lead."""
    out = np.zeros(len(lead_no), dtype=np.int64)
    for c, capacity in enumerate(PHONE_CAPACITY):
        rows = country == c
        out[rows] = _permute(lead_no[rows], capacity, _key(seed, 10 + c))
    return out


def phone_sql(country: str = "country_code", code: str = "p_code") -> str:
    """DuckDB expression for the phone number from phone_codes() (a negative code = blank)."""
    digits = lambda width: f"lpad(({code} % {10**width})::VARCHAR, {width}, '0')"  # noqa: E731
    return f"""CASE WHEN {code} < 0 THEN NULL
        WHEN {country} = 0 THEN '+44 7' || substr({digits(9)}, 1, 3) || ' ' || substr({digits(9)}, 4, 6)
        WHEN {country} = 1 THEN '+353 8' || {_list(IE_MOBILE_PREFIXES)}[{code} // 10000000 + 1] || ' '
                                || substr({digits(7)}, 1, 3) || ' ' || substr({digits(7)}, 4, 4)
        WHEN {country} = 2 THEN '+1 ' || {_list(US_AREA_CODES)}[{code} // 8000000 + 1] || ' '
                                || (200 + ({code} // 10000) % 800)::VARCHAR || ' ' || {digits(4)}
        WHEN {country} = 3 THEN '+49 ' || {_list(DE_MOBILE_PREFIXES)}[{code} // 100000000 + 1] || ' ' || {digits(8)}
        WHEN {country} = 4 THEN '+33 ' || (6 + {code} // 100000000)::VARCHAR || ' ' || substr({digits(8)}, 1, 2)
                                || ' ' || substr({digits(8)}, 3, 2) || ' ' || substr({digits(8)}, 5, 2)
                                || ' ' || substr({digits(8)}, 7, 2)
        ELSE '+31 6 ' || substr({digits(8)}, 1, 4) || ' ' || substr({digits(8)}, 5, 4) END"""


def click_ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """n random click ids: `prefix` + CLICK_ID_LENGTH url-safe base64 characters."""
    body = CLICK_ID_ALPHABET[rng.integers(0, 64, (n, CLICK_ID_LENGTH), dtype=np.uint8)]
    raw = np.concatenate([np.tile(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, 1)), body], axis=1)
    return np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel().astype(str).astype(object)


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"
