"""First-party events: Segment-spec JSON lines (optionally gzipped) -> the ``events`` table.

The file is read by DuckDB as lines (``read_csv`` with one text column, so it streams, reads
``.gz`` directly and knows each line's number), each line is parsed as JSON inside DuckDB,
and the canonical rows are written straight to Parquet with ``COPY``: a 1 GB file never
sits in Python memory. ``parse`` runs the same query and returns a DataFrame (small files,
tests). Field mapping, contract checks and the writer's input are described in README.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.canonical import EVENTS
from pipelines.errors import BadInputError, PipelineError
from pipelines.privacy import PII_FIELDS, missing_salt_error, sql_email_hash, sql_phone_hash
from pipelines.sources.base import ParseContext, Source

# Click-id URL parameters, in the order that decides which one is kept when several are
# present (Google's first, then the other platforms). Names and values are case-sensitive.
CLICK_ID_PARAMS = (
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "ttclid",
    "msclkid",
    "li_fat_id",
    "irclickid",
    "ScCid",
    "epik",
    "tblci",
)
UTM_FIELDS = ("source", "medium", "campaign", "term", "content", "id")
# Segment's context.campaign uses ``name`` for utm_campaign.
_CONTEXT_CAMPAIGN_KEY = {"campaign": "name"}
# Properties moved into their own columns (and so left out of ``properties_json``).
MAPPED_PROPERTIES = ("order_id", "revenue", "total", "currency")
DEFAULT_DAY_TOLERANCE = 1

_PATHS = {
    "message_id": "$.messageId",
    "type": "$.type",
    "event": "$.event",
    "name": "$.name",
    "anonymous_id": "$.anonymousId",
    "user_id": "$.userId",
    "timestamp": "$.timestamp",
    "original_ts": "$.originalTimestamp",
    "sent_at": "$.sentAt",
    "received_at": "$.receivedAt",
    "page_url": "$.context.page.url",
    "page_search": "$.context.page.search",
    "referrer": "$.context.page.referrer",
    "order_id": "$.properties.order_id",
    "revenue": "$.properties.revenue",
    "total": "$.properties.total",
    "currency": "$.properties.currency",
    "email_t": "$.traits.email",
    "email_c": "$.context.traits.email",
    "email_p": "$.properties.email",
    "phone_t": "$.traits.phone",
    "phone_c": "$.context.traits.phone",
    "phone_p": "$.properties.phone",
    **{f"c_{u}": f"$.context.campaign.{_CONTEXT_CAMPAIGN_KEY.get(u, u)}" for u in UTM_FIELDS},
}
_INDEX = {name: i + 1 for i, name in enumerate(_PATHS)}


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _f(name: str) -> str:
    return f"v[{_INDEX[name]}]"


def _param(query: str, name: str) -> str:
    return f"nullif(regexp_extract({query}, {_lit(f'(?:^|[?&]){name}=([^&#]*)')}, 1), '')"


def _problem_sql(ctx: ParseContext) -> str:
    """A SQL ``case`` naming the first contract problem of a line (null if none)."""
    tol = int(ctx.options.get("day_tolerance_days", DEFAULT_DAY_TOLERANCE))
    lo = (ctx.folder_date - dt.timedelta(days=tol)).isoformat()
    hi = (ctx.folder_date + dt.timedelta(days=tol)).isoformat()
    at = "coalesce(ts, ts_derived)"
    checks = [
        (
            "not json_valid(raw)",
            _lit(
                "malformed JSON (the line is not a complete JSON object); each line must hold "
                "one Segment event as JSON"
            ),
        ),
        (
            "doc is null",
            _lit("the line is JSON but not an object; each line must hold one Segment event"),
        ),
        (
            f"nullif({_f('message_id')}, '') is null",
            _lit("missing messageId (the dedupe key); every event needs a messageId"),
        ),
        (f"nullif({_f('type')}, '') is null", _lit("missing type (track, page, identify, ...)")),
        (
            f"{_f('timestamp')} is not null and ts is null",
            f"'timestamp ' || {_f('timestamp')} || ' is not an ISO-8601 time'",
        ),
        (
            f"{at} is null",
            _lit("missing timestamp (and no receivedAt/sentAt/originalTimestamp to derive it)"),
        ),
        (
            f"cast({at} as date) not between date '{lo}' and date '{hi}'",
            f"'event time ' || strftime({at}, '%Y-%m-%dT%H:%M:%SZ') || "
            + _lit(
                f" is outside the folder day {ctx.folder_date} (tolerance {tol} day(s)); "
                "move the file to the landing folder of the day it covers"
            ),
        ),
        (
            "amount_raw is not null and amount is null",
            "'properties.revenue/total ' || amount_raw || ' is not a number'",
        ),
        (
            f"not regexp_full_match({_f('currency')}, '[A-Za-z]{{3}}')",
            f"'properties.currency ' || {_f('currency')} || ' is not a 3-letter currency code'",
        ),
    ]
    return "case " + " ".join(f"when {c} then {m}" for c, m in checks) + " end"


class EventsSource(Source):
    name = "events"
    table = EVENTS
    description = "First-party web/app events, Segment spec, JSON lines (optionally gzipped)"
    patterns = ("*.jsonl", "*.json", "*.ndjson", "*.jsonl.gz", "*.json.gz", "*.ndjson.gz")

    # ---------------------------------------------------------------- reading
    def _sql(self, path: Path, ctx: ParseContext) -> str:
        paths = ", ".join(_lit(p) for p in _PATHS.values())
        url_query = "coalesce(regexp_extract(page_url, '\\?([^#]*)', 1), '')"
        query = f"(coalesce(page_search, '') || '&' || {url_query})"
        problem = _problem_sql(ctx)
        click_cols = ",\n".join(f"{_param('q', p)} as ck_{p.lower()}" for p in CLICK_ID_PARAMS)
        click_type = " ".join(
            f"when ck_{p.lower()} is not null then {_lit(p)}" for p in CLICK_ID_PARAMS
        )
        click_val = " ".join(
            f"when ck_{p.lower()} is not null then ck_{p.lower()}" for p in CLICK_ID_PARAMS
        )
        utm = ",\n".join(
            f"coalesce({_f('c_' + u)}, url_decode(replace({_param('q', 'utm_' + u)}, '+', ' ')))"
            f" as utm_{u}"
            for u in UTM_FIELDS
        )
        pii_patch = _lit(json.dumps(dict.fromkeys(PII_FIELDS + MAPPED_PROPERTIES)))
        salt = ctx.pii_salt
        email = f"coalesce({_f('email_t')}, {_f('email_c')}, {_f('email_p')})"
        phone = f"coalesce({_f('phone_t')}, {_f('phone_c')}, {_f('phone_p')})"
        return f"""
        with lines as (
            select row_number() over () as _line, j as raw
            from read_csv(
                {_lit(str(path))},
                columns = {{'j': 'VARCHAR'}}, delim = chr(1), quote = '', escape = '',
                header = false, auto_detect = false, compression = 'auto',
                max_line_size = 8388608, buffer_size = 33554432, strict_mode = false
            )
        ),
        valid as (
            select
                _line,
                raw,
                case when json_valid(raw)
                    then (case when json_type(raw) = 'OBJECT' then raw::json end) end as doc
            from lines
            where raw is not null and trim(raw) <> ''
        ),
        fields as (
            select
                _line,
                raw,
                doc,
                json_extract_string(doc, [{paths}]) as v,
                json_extract(doc, '$.properties') as props,
                coalesce(
                    json_extract(doc, '$.traits'), json_extract(doc, '$.context.traits')
                ) as traits
            from valid
        ),
        typed as (
            select
                *,
                {_f("page_url")} as page_url,
                {_f("page_search")} as page_search,
                try_cast({_f("timestamp")} as timestamptz) as ts,
                try_cast({_f("received_at")} as timestamptz) as recv,
                try_cast({_f("received_at")} as timestamptz)
                    - (try_cast({_f("sent_at")} as timestamptz)
                       - try_cast({_f("original_ts")} as timestamptz)) as ts_derived,
                coalesce(
                    try_cast({_f("revenue")} as double), try_cast({_f("total")} as double)
                ) as amount,
                coalesce({_f("revenue")}, {_f("total")}) as amount_raw,
                {email} as email_raw,
                {phone} as phone_raw
            from fields
        ),
        clicks as (
            select *, {click_cols}
            from (select *, {query} as q from typed)
        ),
        final as (
            select
                _line,
                {problem} as _problem,
                (email_raw is not null or phone_raw is not null) as _has_pii,
                {_f("message_id")} as event_id,
                lower({_f("type")}) as event_type,
                case lower({_f("type")})
                    when 'track' then {_f("event")}
                    when 'page' then {_f("name")}
                    when 'screen' then {_f("name")}
                    else coalesce({_f("event")}, {_f("name")})
                end as event_name,
                coalesce(ts, ts_derived) as event_at,
                recv as received_at,
                {_f("anonymous_id")} as anonymous_id,
                {_f("user_id")} as user_id,
                page_url,
                {_f("referrer")} as referrer_url,
                {utm},
                case {click_type} end as click_id_type,
                case {click_val} end as click_id,
                {_f("order_id")} as order_id,
                amount as revenue,
                upper({_f("currency")}) as currency,
                {sql_email_hash("email_raw", salt)} as email_hash,
                {sql_phone_hash("phone_raw", salt)} as phone_hash,
                case
                    when lower({_f("type")}) = 'identify' and json_type(traits) = 'OBJECT'
                        then json_merge_patch(traits, {pii_patch})::varchar
                    when json_type(props) = 'OBJECT'
                        then json_merge_patch(props, {pii_patch})::varchar
                end as properties_json
            from clicks
        )
        select * from final
        """

    def _stage(
        self, path: Path, ctx: ParseContext, con: duckdb.DuckDBPyConnection, stage: Path
    ) -> None:
        try:
            con.execute(f"copy ({self._sql(path, ctx)}) to {_lit(str(stage))} (format parquet)")
        except duckdb.OutOfMemoryException as exc:
            # The machine's fault, not the file's: never quarantine a file for this.
            raise PipelineError(
                f"{path}: DuckDB ran out of memory reading it ({str(exc).splitlines()[0]}); "
                "raise duckdb.memory_limit or give duckdb.temp_directory more room"
            ) from exc
        except duckdb.Error as exc:
            msg = str(exc).splitlines()[0]
            raise BadInputError(
                path,
                f"cannot be read as JSON lines ({msg}); deliver UTF-8 text with one JSON "
                "event per line, gzip-compressed only if the name ends in .gz",
            ) from exc
        first = con.execute(
            f"select _line, _problem, count(*) over () from read_parquet({_lit(str(stage))}) "
            "where _problem is not null order by _line limit 1"
        ).fetchall()
        if first:
            line, problem, count = first[0]
            more = f" ({count - 1} more line(s) have problems)" if count > 1 else ""
            raise BadInputError(path, problem + more, f"line {line}")
        has_pii = con.execute(
            f"select bool_or(_has_pii) from read_parquet({_lit(str(stage))})"
        ).fetchall()[0][0]
        if has_pii and not ctx.pii_salt and not ctx.allow_unsalted_pii:
            raise missing_salt_error(ctx.pii_salt_env, str(path))

    def _final_sql(self, stage: Path) -> str:
        cols = ", ".join(self.table.columns)
        return (
            f"select {cols} from read_parquet({_lit(str(stage))}) "
            "qualify row_number() over (partition by event_id order by _line) = 1 order by _line"
        )

    def _connect(self, ctx: ParseContext) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection within the configured threads and memory limit (it spills)."""
        con = duckdb.connect()
        con.execute("set timezone = 'UTC'")
        for key in ("threads", "memory_limit"):
            if ctx.duckdb.get(key) is not None:
                con.execute(f"set {key} = {_lit(str(ctx.duckdb[key]))}")
        return con

    def parse_to_parquet(self, path: Path, ctx: ParseContext, out: Path) -> int:
        with tempfile.TemporaryDirectory(prefix=".events-", dir=out.parent) as tmp:
            stage = Path(tmp) / "stage.parquet"
            con = self._connect(ctx)
            try:
                con.execute(f"set temp_directory = {_lit(tmp)}")
                self._stage(path, ctx, con, stage)
                con.execute(f"copy ({self._final_sql(stage)}) to {_lit(str(out))} (format parquet)")
                return int(
                    con.execute(f"select count(*) from read_parquet({_lit(str(out))})").fetchall()[
                        0
                    ][0]
                )
            finally:
                con.close()

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        with tempfile.TemporaryDirectory(prefix="events-") as tmp:
            stage = Path(tmp) / "stage.parquet"
            con = self._connect(ctx)
            try:
                self._stage(path, ctx, con, stage)
                return con.sql(self._final_sql(stage)).to_arrow_table().to_pandas()
            finally:
                con.close()

    # ---------------------------------------------------------------- writing
    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Render event rows as Segment JSON lines; ``fmt`` is ``jsonl`` (default) or ``jsonl.gz``.

        ``rows`` has the canonical ``events`` columns (missing ones are null) plus optional
        raw ``email`` and ``phone`` columns (written as traits, hashed again on parse);
        ``email_hash``/``phone_hash`` are ignored. See README.md for the mapping.
        """
        fmt = fmt or "jsonl"
        if fmt not in ("jsonl", "jsonl.gz"):
            raise ValueError(f"events: unknown format {fmt!r}; use 'jsonl' or 'jsonl.gz'")
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"events-{ctx.folder_date.isoformat()}.{fmt}"
        lines = [json.dumps(_segment(r), separators=(",", ":")) for r in _records(rows)]
        text = "\n".join(lines) + ("\n" if lines else "")
        if fmt.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as fh:
                fh.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return [path]


def _records(rows: pd.DataFrame) -> list[dict]:
    out = []
    for rec in rows.to_dict("records"):
        out.append({k: (None if _is_null(v) else v) for k, v in rec.items()})
    return out


def _is_null(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _iso(ts: object) -> str | None:
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _segment(r: dict) -> dict:
    etype = r.get("event_type") or "track"
    at = _iso(r.get("event_at"))
    msg: dict = {
        "type": etype,
        "messageId": r.get("event_id"),
        "anonymousId": r.get("anonymous_id"),
        "userId": r.get("user_id"),
        "timestamp": at,
        "originalTimestamp": at,
        "sentAt": at,
        "receivedAt": _iso(r.get("received_at")),
    }
    if etype == "track":
        msg["event"] = r.get("event_name")
    elif etype in ("page", "screen"):
        msg["name"] = r.get("event_name")
    context: dict = {}
    campaign = {
        _CONTEXT_CAMPAIGN_KEY.get(u, u): r.get(f"utm_{u}")
        for u in UTM_FIELDS
        if r.get(f"utm_{u}") is not None
    }
    if campaign:
        context["campaign"] = campaign
    page = {"url": r.get("page_url"), "referrer": r.get("referrer_url")}
    click_type, click_id = r.get("click_id_type"), r.get("click_id")
    if click_type and click_id and f"{click_type}=" not in (r.get("page_url") or ""):
        page["search"] = f"?{click_type}={click_id}"
    page = {k: v for k, v in page.items() if v is not None}
    if page:
        context["page"] = page
    extra = json.loads(r["properties_json"]) if r.get("properties_json") else {}
    pii = {k: r.get(k) for k in ("email", "phone") if r.get(k) is not None}
    if etype == "identify":
        msg["traits"] = {**extra, **pii}
    else:
        if pii:
            context["traits"] = pii
        props = dict(extra)
        for key in ("order_id", "revenue", "currency"):
            if r.get(key) is not None:
                props[key] = r[key]
        if props:
            msg["properties"] = props
    if context:
        msg["context"] = context
    return {k: v for k, v in msg.items() if v is not None}


SOURCE = EventsSource()
