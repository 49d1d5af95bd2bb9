"""Datelines, bylines, update stamps and wire attribution: metadata, not body text.

Three places are examined, all with anchored patterns so ordinary sentences are not touched:

* stand-alone short lines anywhere that are only a date stamp ("- Aug 28, 2025,",
  "Updated Aug 28, 2025 1:11 PM IST"), a labelled time stamp ("Updated at 1:23 p.m. EDT") or
  only a byline ("By Jane Doe");
* the start of the first body paragraph, for an agency dateline ("LISBON, Aug 27 (Reuters) -",
  "WASHINGTON (AP) —");
* the last lines of the body, for trailers ("(With Reuters inputs)", "(Reporting by ...; Editing
  by ...)", "-- AFP", "PTI", "Write to Jane Doe at jane@example.com").

Agencies found this way fill ``wire_agency`` (first found wins); removed trailers are joined into
``attribution``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# Display name for each way an agency is written.
AGENCIES = {
    "reuters": "Reuters",
    "ap": "AP",
    "associated press": "AP",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "pti": "PTI",
    "ians": "IANS",
    "ani": "ANI",
    "bloomberg": "Bloomberg",
    "dpa": "dpa",
    "xinhua": "Xinhua",
    "kyodo": "Kyodo",
    "efe": "EFE",
    "ansa": "ANSA",
    "upi": "UPI",
    "bernama": "Bernama",
    "yonhap": "Yonhap",
}
_AGENCY = "|".join(sorted((re.escape(a) for a in AGENCIES), key=len, reverse=True))
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{4}})"
)
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[A-Z]{2,5}\)?)?)"
DATE_LINE = re.compile(
    rf"^[-–—•|\s]*(?P<label>updated|last updated|published|first published|posted|modified)?\s*:?\s*"
    rf"(?:on\s+)?(?:[a-z]+day,?\s+)?(?P<date>{_DATE}){_TIME}?[\s,.|]*$",
    re.IGNORECASE,
)
# A stamp with a time and no date ("Updated at 1:23 p.m. EDT") says nothing the metadata can
# keep, but is no body text either; unlike a date stamp it needs its label.
TIME_LINE = re.compile(
    r"^[-–—•|\s]*(?:updated|last updated|published|posted|modified)\s*:?\s*(?:at\s+)?"
    r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[A-Z]{2,5}\)?)?[\s,.|]*$",
    re.IGNORECASE,
)
BYLINE = re.compile(r"^\s*(?:by|written by|words by)\s+[^\W\d][\w.'’ -]*(?:,|\band\b|&|[\w.'’ -])*$", re.IGNORECASE)
LEAD_DATELINE = re.compile(
    rf"^(?P<place>[A-Z][A-Za-z.'’ -]{{1,40}}?)?,?\s*(?:{_MONTH}\s+\d{{1,2}}\s*)?"
    rf"\((?P<agency>{_AGENCY})\)\s*[-–—:]+\s*",
    re.IGNORECASE,
)
TRAILERS = [
    re.compile(
        rf"^\(?\s*with (?:inputs from |input from )?(?P<agency>{_AGENCY})(?: inputs?)?\s*\)?\.?$", re.IGNORECASE
    ),
    re.compile(r"^\(?\s*with (?:inputs from )?agencies(?: inputs)?\s*\)?\.?$", re.IGNORECASE),
    # a reporting credit names people, and sometimes the agency among them
    re.compile(
        rf"^\(\s*(?:additional )?(?:reporting|writing|compiled|editing) by (?=.{{3}})"
        rf"(?:.{{0,300}}?\b(?P<agency>{_AGENCY})\b)?.{{0,300}}\)\.?$",
        re.IGNORECASE,
    ),
    re.compile(rf"^[-–—]+\s*(?P<agency>{_AGENCY})\.?$", re.IGNORECASE),
    re.compile(rf"^\(?(?P<agency>{_AGENCY})\)?\.?$", re.IGNORECASE),
    re.compile(r"^\(this (?:story|article) has not been edited .{0,200}\)\.?$", re.IGNORECASE),
    # the reporter's address at the foot of a story ("Write to Jane Doe at jane.doe@example.com")
    # (a line that only invites readers to write to an organisation is left alone)
    re.compile(
        r"^(?:write to|(?:contact|reach|e-?mail) (?:the )?"
        r"(?:reporter|writer|author|journalist|correspondent)s?\b|e-?mail\s*:)"
        r".{0,120}?[\w.+-]+@[\w-]+(?:\.[\w-]+)+\.?$",
        re.IGNORECASE,
    ),
    re.compile(rf"^©?\s*(?:copyright\s+)?(?:\d{{4}}\s+)?(?P<agency>{_AGENCY})\b.{{0,60}}\.?$", re.IGNORECASE),
]
_MAX_STAMP_WORDS = 14


def agency_name(raw: str) -> str:
    return AGENCIES[raw.lower()]


@dataclass
class WireInfo:
    wire_agency: str | None = None
    attribution_lines: list[str] = field(default_factory=list)
    stamps: list[tuple[str, str]] = field(default_factory=list)  # (label, date text)
    bylines: list[str] = field(default_factory=list)

    @property
    def attribution(self) -> str | None:
        return " ".join(self.attribution_lines) or None

    def _agency(self, raw: str | None) -> None:
        if raw and self.wire_agency is None:
            self.wire_agency = agency_name(raw)


def _is_trailer(line: str, info: WireInfo) -> bool:
    for pattern in TRAILERS:
        match = pattern.match(line.strip())
        if match:
            info._agency(match.groupdict().get("agency"))
            return True
    return False


def strip_wire_furniture(paragraphs: list[str]) -> tuple[list[str], WireInfo]:
    info = WireInfo()
    body: list[str] = []
    for line in paragraphs:
        if len(line.split()) <= _MAX_STAMP_WORDS:
            stamp = DATE_LINE.match(line)
            if stamp:
                info.stamps.append(((stamp.group("label") or "published").lower(), stamp.group("date")))
                continue
            if TIME_LINE.match(line):
                continue
            if BYLINE.match(line) and len(line.split()) <= 8:
                info.bylines.append(line.strip())
                continue
        body.append(line)

    # The dateline names the agency that wrote the story; it outranks a trailer.
    if body:
        match = LEAD_DATELINE.match(body[0])
        if match and len(body[0]) > match.end():
            info._agency(match.group("agency"))
            rest = body[0][match.end() :]
            body[0] = rest[0].upper() + rest[1:]

    # Trailers: scan back from the end over short attribution lines.
    tail: list[str] = []
    while body and len(body[-1].split()) <= 40 and _is_trailer(body[-1], info):
        tail.insert(0, body.pop())
    info.attribution_lines = tail
    return body, info


def parse_stamp(date_text: str) -> datetime | None:
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(date_text.replace(".", "").replace("Sept", "Sep"), fmt)
        except ValueError:
            continue
    return None
