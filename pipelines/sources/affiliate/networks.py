"""The three affiliate networks' transaction shapes: record -> canonical row, and back.

Each network has a ``read_<network>(record, ...)`` that maps one delivered record to a
canonical row (a dict of ``affiliate_transactions`` columns) and a ``render_<network>``
that turns canonical rows into the network's own JSON (or CSV) document.

Status normalisation (``status``; the delivered value stays in ``raw_status``):

| network | pending | approved | reversed |
|---|---|---|---|
| Impact ``State`` | PENDING | APPROVED, CLEARED | REVERSED |
| Awin ``commissionStatus`` | pending | approved | declined, deleted |
| CJ ``actionStatus`` | NEW, EXTENDED | LOCKED, CLOSED | see below |

CJ rows are ``reversed`` when ``validationStatus`` is DECLINED, or when the record is a
correction (``original: false``) with a negative amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from pipelines.errors import BadInputError
from pipelines.sources._formats import check_currency, is_null, parse_decimal, parse_timestamp

IMPACT_STATUS = {
    "PENDING": "pending",
    "APPROVED": "approved",
    "CLEARED": "approved",
    "REVERSED": "reversed",
}
AWIN_STATUS = {
    "pending": "pending",
    "approved": "approved",
    "declined": "reversed",
    "deleted": "reversed",
}
CJ_ACTION_STATUS = {
    "NEW": "pending",
    "EXTENDED": "pending",
    "LOCKED": "approved",
    "CLOSED": "approved",
}

IMPACT_REQUIRED = ("Id", "EventDate", "State", "Payout", "Currency")
AWIN_REQUIRED = ("id", "transactionDate", "commissionStatus", "commissionAmount")
CJ_REQUIRED = ("commissionId", "eventDate", "actionStatus", "postingDate")


def _text(raw: object) -> str | None:
    if is_null(raw) or raw == "":
        return None
    return str(raw).strip() or None


def _require(rec: dict[str, Any], names: tuple[str, ...], file: Path, where: str) -> None:
    missing = [n for n in names if n not in rec or rec[n] is None or rec[n] == ""]
    if missing:
        raise BadInputError(
            file,
            f"missing required field{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(m) for m in missing)
            + "; request the full record from the network's API",
            where,
        )


def _latest(*stamps: pd.Timestamp | None) -> pd.Timestamp | None:
    present = [s for s in stamps if s is not None]
    return max(present) if present else None


def _amount(raw: object, file: Path, where: str) -> float | None:
    d = parse_decimal(raw, file, where)
    return None if d is None else float(d)


# ---------------------------------------------------------------------------- Impact


def read_impact(rec: dict[str, Any], file: Path, where: str, tz: str) -> dict[str, Any]:
    """One Impact Brand API ``Action`` (JSON object or CSV row with the same names)."""
    _require(rec, IMPACT_REQUIRED, file, where)
    state = str(rec["State"]).strip().upper()
    if state not in IMPACT_STATUS:
        raise BadInputError(
            file,
            f"unknown State {rec['State']!r}; expected PENDING, APPROVED or REVERSED",
            f"{where}, field 'State'",
        )

    def ts(name: str) -> pd.Timestamp | None:
        return parse_timestamp(rec.get(name), file, f"{where}, field {name!r}", tz)

    return {
        "network": "impact",
        "transaction_id": _text(rec["Id"]),
        "order_id": _text(rec.get("Oid")),
        "advertiser_id": _text(rec.get("CampaignId")),
        "publisher_id": _text(rec.get("MediaPartnerId")),
        "publisher_name": _text(rec.get("MediaPartnerName")),
        "sub_id": _text(rec.get("SharedId")),
        "event_at": ts("EventDate"),
        "click_at": ts("ReferringDate"),
        "status": IMPACT_STATUS[state],
        "raw_status": state,
        "sale_amount": _amount(rec.get("Amount"), file, f"{where}, field 'Amount'"),
        "commission_amount": _amount(rec["Payout"], file, f"{where}, field 'Payout'"),
        "currency": check_currency(rec["Currency"], file, f"{where}, field 'Currency'"),
        "is_correction": False,
        "original_transaction_id": None,
        "updated_at": _latest(
            ts("CreationDate"), ts("ClearedDate"), ts("UpdateDate"), ts("EventDate")
        ),
    }


def _s(value: object) -> str:
    """A cell for writing: '' for None/NaN."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _n(value: object) -> str | None:
    """A JSON value for writing: None for None/NaN/''."""
    return _s(value) or None


def _int_id(value: object) -> int | str | None:
    """Awin ids are JSON integers."""
    text = _s(value)
    return int(text) if text.isdigit() else (text or None)


def _iso_offset(ts: object, tz: str) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return pd.Timestamp(ts).tz_convert(tz).isoformat(timespec="seconds")


def _money(value: object, places: int = 2) -> str:
    """Impact's decimal strings: two places, more only when the value has them."""
    if value is None or pd.isna(value):
        return ""
    d = Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-places))
    return f"{q}" if q == d else f"{d.normalize():f}"


IMPACT_FIELDS = (
    "Id",
    "CampaignId",
    "CampaignName",
    "ActionTrackerId",
    "ActionTrackerName",
    "EventCode",
    "EventTypeId",
    "EventTypeName",
    "MediaPartnerId",
    "MediaPartnerName",
    "State",
    "Amount",
    "Payout",
    "DeltaAmount",
    "DeltaPayout",
    "Currency",
    "ReferringDate",
    "EventDate",
    "CreationDate",
    "LockingDate",
    "ClearedDate",
    "ReferringType",
    "ReferringDomain",
    "PromoCode",
    "Oid",
    "CustomerId",
    "SharedId",
    "Uri",
)


def impact_records(rows: pd.DataFrame, tz: str) -> list[dict[str, str]]:
    """Canonical rows -> Impact ``Action`` objects (every value a string, as Impact sends)."""
    out = []
    for r in rows.itertuples(index=False):
        state = (
            r.raw_status
            if isinstance(r.raw_status, str) and r.raw_status in IMPACT_STATUS
            else None
        )
        state = (
            state
            or {"pending": "PENDING", "approved": "APPROVED", "reversed": "REVERSED"}[r.status]
        )
        event = pd.Timestamp(r.event_at)
        created = pd.Timestamp(r.updated_at) if not pd.isna(r.updated_at) else event
        out.append(
            {
                "Id": r.transaction_id,
                "CampaignId": _s(r.advertiser_id),
                "CampaignName": "Acme Outdoor",
                "ActionTrackerId": "21377",
                "ActionTrackerName": "Online Sale",
                "EventCode": "",
                "EventTypeId": "21377",
                "EventTypeName": "Online Sale",
                "MediaPartnerId": _s(r.publisher_id),
                "MediaPartnerName": _s(r.publisher_name),
                "State": state,
                "Amount": _money(r.sale_amount),
                "Payout": _money(r.commission_amount),
                "DeltaAmount": "0.00",
                "DeltaPayout": "0.00",
                "Currency": _s(r.currency),
                "ReferringDate": _iso_offset(r.click_at, tz),
                "EventDate": _iso_offset(event, tz),
                "CreationDate": _iso_offset(created, tz),
                "LockingDate": _iso_offset(event + pd.Timedelta(days=30), tz),
                "ClearedDate": "",
                "ReferringType": "CLICK_COOKIE",
                "ReferringDomain": "",
                "PromoCode": "",
                "Oid": _s(r.order_id),
                "CustomerId": "",
                "SharedId": _s(r.sub_id),
                "Uri": f"/Advertisers/IRacme/Actions/{r.transaction_id}",
            }
        )
    return out


def render_impact(rows: pd.DataFrame, tz: str) -> dict[str, Any]:
    actions = impact_records(rows, tz)
    n = len(actions)
    return {
        "@page": "1",
        "@numpages": "1",
        "@pagesize": "20000",
        "@total": str(n),
        "@start": "0",
        "@end": str(max(n - 1, 0)),
        "@uri": "/Advertisers/IRacme/Actions?PageSize=20000&Page=1",
        "@firstpageuri": "/Advertisers/IRacme/Actions?PageSize=20000&Page=1",
        "@previouspageuri": "",
        "@nextpageuri": "",
        "@lastpageuri": "/Advertisers/IRacme/Actions?PageSize=20000&Page=1",
        "Actions": actions,
    }


# ---------------------------------------------------------------------------- Awin


def _awin_money(obj: object, name: str, file: Path, where: str) -> tuple[float | None, str | None]:
    if obj is None:
        return None, None
    if not isinstance(obj, dict):
        raise BadInputError(
            file, f"{name} must be an object {{amount, currency}}, got {obj!r}", where
        )
    amount = _amount(obj.get("amount"), file, f"{where}, field '{name}.amount'")
    cur = obj.get("currency")
    return amount, (
        None
        if cur in (None, "")
        else check_currency(cur, file, f"{where}, field '{name}.currency'")
    )


def read_awin(rec: dict[str, Any], file: Path, where: str, tz: str) -> dict[str, Any]:
    """One Awin transaction (publisher or advertiser transactions API)."""
    _require(rec, AWIN_REQUIRED, file, where)
    raw = str(rec["commissionStatus"]).strip().lower()
    if raw not in AWIN_STATUS:
        raise BadInputError(
            file,
            f"unknown commissionStatus {rec['commissionStatus']!r}; "
            "expected pending, approved, declined or deleted",
            f"{where}, field 'commissionStatus'",
        )
    sale, sale_cur = _awin_money(rec.get("saleAmount"), "saleAmount", file, where)
    comm, comm_cur = _awin_money(rec["commissionAmount"], "commissionAmount", file, where)
    currency = comm_cur or sale_cur
    if currency is None:
        raise BadInputError(file, "no currency in saleAmount or commissionAmount", where)
    if sale_cur and comm_cur and sale_cur != comm_cur:
        raise BadInputError(
            file,
            f"saleAmount is in {sale_cur} but commissionAmount in {comm_cur}; "
            "one currency per transaction is expected",
            where,
        )
    refs = rec.get("clickRefs") or {}

    def ts(name: str) -> pd.Timestamp | None:
        return parse_timestamp(rec.get(name), file, f"{where}, field {name!r}", tz)

    event = ts("transactionDate")
    return {
        "network": "awin",
        "transaction_id": _text(rec["id"]),
        "order_id": _text(rec.get("orderRef")),
        "advertiser_id": _text(rec.get("advertiserId")),
        "publisher_id": _text(rec.get("publisherId")),
        "publisher_name": _text(rec.get("siteName")),
        "sub_id": _text(refs.get("clickRef")) if isinstance(refs, dict) else None,
        "event_at": event,
        "click_at": ts("clickDate"),
        "status": AWIN_STATUS[raw],
        "raw_status": raw,
        "sale_amount": sale,
        "commission_amount": comm,
        "currency": currency,
        "is_correction": False,
        "original_transaction_id": None,
        "updated_at": _latest(event, ts("validationDate"), ts("amendmentDate")),
    }


def _naive(ts: object, tz: str) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert(tz).strftime("%Y-%m-%dT%H:%M:%S")


def render_awin(rows: pd.DataFrame, tz: str) -> list[dict[str, Any]]:
    """Canonical rows -> Awin transactions (naive times in ``tz``, the API's timezone param)."""
    out = []
    for r in rows.itertuples(index=False):
        raw = (
            r.raw_status if isinstance(r.raw_status, str) and r.raw_status in AWIN_STATUS else None
        )
        raw = (
            raw or {"pending": "pending", "approved": "approved", "reversed": "declined"}[r.status]
        )
        validated = raw != "pending"
        out.append(
            {
                "id": _int_id(r.transaction_id),
                "url": "https://www.acme-outdoor.example/checkout/complete",
                "advertiserId": _int_id(r.advertiser_id),
                "publisherId": _int_id(r.publisher_id),
                "commissionSharingPublisherId": None,
                "siteName": _n(r.publisher_name),
                "commissionStatus": raw,
                "commissionAmount": {"amount": float(r.commission_amount), "currency": r.currency},
                "saleAmount": (
                    None
                    if pd.isna(r.sale_amount)
                    else {"amount": float(r.sale_amount), "currency": r.currency}
                ),
                "ipHash": None,
                "customerCountry": "GB",
                "clickRefs": {"clickRef": _n(r.sub_id)} if _n(r.sub_id) else None,
                "clickDate": _naive(r.click_at, tz),
                "transactionDate": _naive(r.event_at, tz),
                "validationDate": _naive(r.updated_at, tz) if validated else None,
                "type": "Commission group transaction",
                "declineReason": "Order cancelled by customer" if raw == "declined" else None,
                "voucherCodeUsed": False,
                "voucherCode": None,
                "lapseTime": 86400,
                "amended": False,
                "amendReason": None,
                "oldSaleAmount": None,
                "oldCommissionAmount": None,
                "clickDevice": "Windows",
                "transactionDevice": "Windows",
                "customerAcquisition": None,
                "publisherUrl": None,
                "advertiserCountry": "GB",
                "orderRef": _n(r.order_id),
                "customParameters": None,
                "transactionParts": [
                    {
                        "commissionGroupId": 1298,
                        "amount": None if pd.isna(r.sale_amount) else float(r.sale_amount),
                        "commissionAmount": float(r.commission_amount),
                        "commissionGroupCode": "DEFAULT",
                        "commissionGroupName": "Default Commission",
                    }
                ],
                "paidToPublisher": False,
                "paymentId": 0,
                "transactionQueryId": 0,
                "originalSaleAmount": None,
            }
        )
    return out


# ---------------------------------------------------------------------------- CJ


def read_cj(
    rec: dict[str, Any], file: Path, where: str, tz: str, adv_currency: str | None
) -> dict[str, Any]:
    """One CJ Commission Detail record (advertiser or publisher view)."""
    _require(rec, CJ_REQUIRED, file, where)
    action = str(rec["actionStatus"]).strip().upper()
    if action not in CJ_ACTION_STATUS:
        raise BadInputError(
            file,
            f"unknown actionStatus {rec['actionStatus']!r}; "
            "expected new, locked, extended or closed",
            f"{where}, field 'actionStatus'",
        )
    validation = str(rec.get("validationStatus") or "").strip().upper()

    if "saleAmountUsd" in rec or "advCommissionAmountUsd" in rec or "pubCommissionAmountUsd" in rec:
        currency = "USD"
        sale_raw = rec.get("saleAmountUsd")
        comm_name = (
            "advCommissionAmountUsd"
            if "advCommissionAmountUsd" in rec
            else "pubCommissionAmountUsd"
        )
    elif "saleAmountAdvCurrency" in rec or "advCommissionAmountAdvCurrency" in rec:
        if not adv_currency:
            raise BadInputError(
                file,
                "amounts are in the advertiser's currency but the record names none; set "
                "sources.affiliate.cj_advertiser_currency or request the *Usd fields",
                where,
            )
        currency = adv_currency
        sale_raw = rec.get("saleAmountAdvCurrency")
        comm_name = "advCommissionAmountAdvCurrency"
    else:
        raise BadInputError(
            file,
            "missing required field 'advCommissionAmountUsd' (or pubCommissionAmountUsd); "
            "request the commission amount in the query",
            where,
        )
    if comm_name not in rec:
        raise BadInputError(
            file, f"missing required field {comm_name!r}; request it in the query", where
        )
    sale = _amount(sale_raw, file, f"{where}, field 'saleAmount'")
    comm = _amount(rec[comm_name], file, f"{where}, field {comm_name!r}")

    original = rec.get("original")
    is_correction = original is False or str(original).strip().lower() == "false"
    negative = (comm is not None and comm < 0) or (sale is not None and sale < 0)
    if (is_correction and negative) or validation == "DECLINED":
        status = "reversed"
    else:
        status = CJ_ACTION_STATUS[action]

    def ts(name: str) -> pd.Timestamp | None:
        return parse_timestamp(rec.get(name), file, f"{where}, field {name!r}", tz)

    return {
        "network": "cj",
        "transaction_id": _text(rec["commissionId"]),
        "order_id": _text(rec.get("orderId")),
        "advertiser_id": _text(rec.get("advertiserId")),
        "publisher_id": _text(rec.get("publisherId")),
        "publisher_name": _text(rec.get("publisherName")) or _text(rec.get("websiteName")),
        "sub_id": _text(rec.get("sid")) or _text(rec.get("shopperId")),
        "event_at": ts("eventDate"),
        "click_at": ts("clickDate"),
        "status": status,
        "raw_status": f"{rec['actionStatus']}/{rec['validationStatus']}"
        if validation
        else str(rec["actionStatus"]),
        "sale_amount": sale,
        "commission_amount": comm,
        "currency": currency,
        "is_correction": is_correction,
        "original_transaction_id": _text(rec.get("originalActionId")) if is_correction else None,
        "updated_at": _latest(ts("postingDate"), ts("eventDate")),
    }


def _utc_z(ts: object) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _cj_amount(value: object) -> str | None:
    if value is None or pd.isna(value):
        return None
    d = Decimal(str(value))
    q = d.quantize(Decimal("0.001"))
    return f"{q:f}" if q == d else f"{d.normalize():f}"


def render_cj(rows: pd.DataFrame) -> dict[str, Any]:
    """Canonical rows -> CJ's GraphQL ``advertiserCommissions`` response."""
    records = []
    for r in rows.itertuples(index=False):
        raw = r.raw_status if isinstance(r.raw_status, str) else ""
        action, _, validation = raw.partition("/")
        if action.upper() not in CJ_ACTION_STATUS:
            action = {"pending": "NEW", "approved": "LOCKED", "reversed": "NEW"}[r.status]
            validation = ""
        if not validation:
            validation = {"pending": "PENDING", "approved": "ACCEPTED", "reversed": "DECLINED"}[
                r.status
            ]
            if r.is_correction:
                validation = "ACCEPTED"
        event = pd.Timestamp(r.event_at)
        correction = bool(r.is_correction)
        records.append(
            {
                "actionTrackerId": "412753",
                "actionTrackerName": "Online Sale",
                "actionType": "item_sale",
                "advertiserId": _n(r.advertiser_id),
                "advertiserName": "Acme Outdoor",
                "commissionId": r.transaction_id,
                "orderId": _n(r.order_id),
                "eventDate": _utc_z(event),
                "clickDate": _utc_z(r.click_at),
                "postingDate": _utc_z(r.updated_at) or _utc_z(event),
                "lockingDate": (event + pd.Timedelta(days=45)).strftime("%Y-%m-%d"),
                "lockingMethod": "FIXED_DURATION",
                "actionStatus": action,
                "validationStatus": validation,
                "saleAmountUsd": _cj_amount(r.sale_amount),
                "advCommissionAmountUsd": _cj_amount(r.commission_amount),
                "pubCommissionAmountUsd": _cj_amount(
                    None if pd.isna(r.commission_amount) else float(r.commission_amount) / 1.3
                ),
                "cjFeeUsd": _cj_amount(
                    None if pd.isna(r.commission_amount) else float(r.commission_amount) * 0.3 / 1.3
                ),
                "publisherId": _n(r.publisher_id),
                "publisherName": _n(r.publisher_name),
                "websiteId": f"10{r.publisher_id}" if _n(r.publisher_id) else None,
                "shopperId": _n(r.sub_id),
                "original": not correction,
                "originalActionId": _n(r.original_transaction_id) if correction else None,
                "correctionReason": "RETURNED_MERCHANDISE" if correction else None,
                "country": "US",
                "source": "CJ",
            }
        )
    return {
        "data": {
            "advertiserCommissions": {
                "count": len(records),
                "payloadComplete": True,
                "maxCommissionId": max((str(r["commissionId"]) for r in records), default=None),
                "records": records,
            }
        }
    }


def zone(name: str | None, default: str = "UTC") -> str:
    return str(ZoneInfo(name or default))


def day_in(ts: pd.Timestamp | None, tz: str) -> dt.date | None:
    return None if ts is None else ts.tz_convert(tz).date()
