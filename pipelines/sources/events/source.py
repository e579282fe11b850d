"""First-party events: Segment-spec JSON lines (optionally gzipped) -> the ``events`` table.

The file is read by DuckDB as lines (``read_csv`` with one text column, so it streams, reads
``.gz`` directly and knows each line's number), each line is parsed as JSON inside DuckDB,
and the canonical rows are written straight to Parquet with ``COPY``: a 1 GB file never
sits in Python memory. ``parse`` runs the same query and returns a DataFrame (small files,
tests). ``write`` (the synthetic generator's) renders rows to Segment lines column-wise with
Arrow (``segment_lines``), never one dict per row. Field mapping, contract checks and the
writer's input are described in README.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
        ``email_hash``/``phone_hash`` are ignored. See README.md for the mapping. The lines
        are built column by column (``segment_lines``), ``WRITE_CHUNK_ROWS`` rows at a time;
        the gzip header carries no name and no time, so the same rows give the same bytes.
        """
        fmt = fmt or "jsonl"
        if fmt not in ("jsonl", "jsonl.gz"):
            raise ValueError(f"events: unknown format {fmt!r}; use 'jsonl' or 'jsonl.gz'")
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"events-{ctx.folder_date.isoformat()}.{fmt}"
        with path.open("wb") as raw:
            fh = (
                gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL
                )
                if fmt.endswith(".gz")
                else raw
            )
            for first in range(0, len(rows), WRITE_CHUNK_ROWS):
                fh.write(segment_lines(rows.iloc[first : first + WRITE_CHUNK_ROWS]))
            if fh is not raw:
                fh.close()
        return [path]


# Rows rendered per step of ``write`` (bounds its memory whatever the frame's size).
WRITE_CHUNK_ROWS = 200_000
# zlib level of ``jsonl.gz`` output: level 9 compresses JSON lines only 4% smaller than
# level 3 at a quarter of the speed, and the 10M-event benchmark writes gigabytes of them.
GZIP_LEVEL = 3
_LS = pa.large_string()
_NULL = pa.scalar(None, _LS)
_SEP = (",", ":")
# Bytes json.dumps does not write as themselves: controls, '"', '\', DEL and non-ASCII.
_ESCAPED_BYTE = np.ones(256, dtype=bool)
_ESCAPED_BYTE[0x20:0x7F] = False
_ESCAPED_BYTE[[0x22, 0x5C]] = True
_PII_KEYS = ("email", "phone")
_ORDER_KEYS = ("order_id", "revenue", "currency")
_US_PER_DAY = 86_400_000_000


def segment_lines(rows: pd.DataFrame) -> bytes:
    """Each row as one Segment message in JSON plus a newline, built column-wise with Arrow.

    The text is what ``json.dumps(message, separators=(",", ":"))`` gives (ASCII only;
    keys with null values omitted) for the message README.md describes. Every member is
    rendered for all rows at once as ``,"key":value`` (null where omitted) and the members
    are concatenated; only strings that need escaping go through ``json.dumps`` one by one,
    and ``properties_json`` is parsed once per distinct value. When ``properties_json``
    itself holds a mapped key (``order_id``, ``revenue``, ``currency``; for ``identify``
    ``email``, ``phone``) that the row also has, the row's value wins and the key moves to
    the end of the object.
    """
    n = len(rows)
    if n == 0:
        return b""

    def col(name: str) -> pd.Series:
        return rows[name] if name in rows.columns else pd.Series([None] * n, dtype=object)

    etype = _strings(col("event_type"), "event_type")
    etype = pc.if_else(pc.fill_null(pc.equal(etype, ""), True), _s("track"), etype)
    is_identify = pc.equal(etype, "identify")
    name_key = pc.if_else(
        pc.equal(etype, "track"),
        _s(',"event":'),
        pc.if_else(pc.is_in(etype, pa.array(["page", "screen"], _LS)), _s(',"name":'), _NULL),
    )
    at = _iso_times(col("event_at"))
    received = _iso_times(col("received_at"))
    extra = _extra_properties(col("properties_json"))

    campaign = _object(
        ',"campaign":',
        [
            _members(f",{json.dumps(_CONTEXT_CAMPAIGN_KEY.get(u, u))}:", col(f"utm_{u}"))
            for u in UTM_FIELDS
        ],
    )
    page = _object(
        ',"page":',
        [
            _members(',"url":', col("page_url")),
            _members(',"referrer":', col("referrer_url")),
            _click_search(col),
        ],
    )
    email, phone = _members(',"email":', col("email")), _members(',"phone":', col("phone"))
    context = _object(
        ',"context":',
        [campaign, page, pc.if_else(is_identify, _NULL, _object(',"traits":', [email, phone]))],
    )
    # identify: "traits" (always written); other types: "properties" (omitted when empty)
    bag = _join(
        pc.if_else(is_identify, extra["traits"], extra["properties"]),
        pc.if_else(
            is_identify,
            pc.coalesce(email, extra["email"]),
            _members_or_extra(',"order_id":', col("order_id"), extra["order_id"]),
        ),
        pc.if_else(
            is_identify,
            pc.coalesce(phone, extra["phone"]),
            _members_or_extra(',"revenue":', col("revenue"), extra["revenue"]),
        ),
        pc.if_else(
            is_identify,
            _NULL,
            _members_or_extra(',"currency":', col("currency"), extra["currency"]),
        ),
        nulls_as_empty=True,
    )
    bag = pc.if_else(
        is_identify,
        _wrap(',"traits":', bag),
        pc.if_else(pc.equal(bag, ""), _NULL, _wrap(',"properties":', bag)),
    )
    line = _join(
        "{",
        _members('"type":', etype),
        _members(',"messageId":', col("event_id")),
        _members(',"anonymousId":', col("anonymous_id")),
        _members(',"userId":', col("user_id")),
        _join(',"timestamp":"', at, '","originalTimestamp":"', at, '","sentAt":"', at, '"'),
        _join(',"receivedAt":"', received, '"'),
        _members(name_key, col("event_name")),
        bag,
        context,
        "}\n",
        nulls_as_empty=True,
    )
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64, count=n + 1, offset=line.offset * 8)
    return memoryview(line.buffers()[2])[offsets[0] : offsets[-1]].tobytes()


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, _LS)


def _join(*parts: pa.Array | pa.Scalar | str, nulls_as_empty: bool = False) -> pa.Array:
    """Element-wise concatenation: null if any part is null, or with ``nulls_as_empty``
    the null parts left out."""
    args = [_s(p) if isinstance(p, str) else p for p in parts]
    if nulls_as_empty:
        out = pc.binary_join_element_wise(
            *args, _s(""), null_handling="replace", null_replacement=""
        )
    else:
        out = pc.binary_join_element_wise(*args, _s(""))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _wrap(prefix: str, inner: pa.Array) -> pa.Array:
    """``prefix{...}`` around members that each start with a comma (the first one cut)."""
    return pc.replace_substring(_join(prefix + "{", inner, "}"), "{,", "{", max_replacements=1)


def _object(prefix: str, members: list[pa.Array]) -> pa.Array:
    """``prefix{members}``, null where every member is null."""
    inner = _join(*members, nulls_as_empty=True)
    return pc.if_else(pc.equal(inner, ""), _NULL, _wrap(prefix, inner))


def _strings(values: pd.Series, name: str) -> pa.Array:
    """A text column as Arrow strings (null where null)."""
    arr = _arrow(values)
    if arr is not None and pa.types.is_null(arr.type):
        return pa.nulls(len(values), _LS)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise ValueError(f"events writer: column {name!r} must hold text (or nulls)")
    return arr.cast(_LS)


def _arrow(values: pd.Series) -> pa.Array | None:
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _members(prefix: str | pa.Array, values: pd.Series | pa.Array) -> pa.Array:
    """``prefix`` + each value as json.dumps writes it (ASCII only); null where the value
    or the prefix is null. Text goes column-wise, escaping only the strings that need it;
    numbers, booleans and mixed columns go value by value."""
    arr = values if isinstance(values, pa.Array) else _arrow(values)
    if arr is not None and pa.types.is_null(arr.type):
        return pa.nulls(len(values), _LS)
    pre = _s(prefix) if isinstance(prefix, str) else prefix
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(_LS)
        out = _join(pre, '"', arr, '"')
        bad = _escaped_rows(arr)
        if len(bad):
            pres = [prefix] * len(bad) if isinstance(prefix, str) else pre.take(bad).to_pylist()
            fixed = [
                None if p is None else p + json.dumps(v)
                for p, v in zip(pres, arr.take(bad).to_pylist(), strict=True)
            ]
            mask = np.zeros(len(arr), dtype=bool)
            mask[bad] = True
            out = pc.replace_with_mask(out, pa.array(mask), pa.array(fixed, _LS))
        return out
    present = values.notna().to_numpy()
    text = np.full(len(values), None, dtype=object)
    text[present] = [
        json.dumps(v.item() if isinstance(v, np.generic) else v, separators=_SEP)
        for v in values.to_numpy(dtype=object)[present]
    ]
    return _join(pre, pa.array(text, _LS))


def _members_or_extra(prefix: str, values: pd.Series, extra: pa.Array) -> pa.Array:
    return pc.coalesce(_members(prefix, values), extra)


def _escaped_rows(arr: pa.Array) -> np.ndarray:
    """Positions of the non-null strings holding a byte json.dumps would escape."""
    data = arr.buffers()[2]
    if data is None or len(arr) == 0:
        return np.array([], dtype=np.int64)
    offsets = np.frombuffer(
        arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8
    )
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero(_ESCAPED_BYTE[raw])
    if not len(hits):
        return hits
    rows = np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)
    return rows[arr.is_valid().to_numpy(zero_copy_only=False)[rows]]


def _iso_times(values: pd.Series) -> pa.Array:
    """Times as ``%Y-%m-%dT%H:%M:%S.%fZ`` text in UTC (naive times are taken as UTC)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        stamps = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        stamps = values
    else:  # text or Timestamp objects, as pd.Timestamp reads them one by one
        stamps = pd.Series(
            [_utc_naive(v) for v in values.to_numpy(dtype=object)], dtype="datetime64[us]"
        )
    us = stamps.to_numpy().astype("datetime64[us]")
    valid = ~np.isnat(us)
    n = len(us)
    ticks = np.where(valid, us.view(np.int64), 0)
    days, in_day = np.divmod(ticks, _US_PER_DAY)
    uniq, which = np.unique(days, return_inverse=True)
    dates = [
        (dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).strftime("%Y-%m-%dT").encode()
        for d in uniq
    ]
    # "YYYY-MM-DDT" is 11 bytes for years 1000-9999; other years take the slow way
    if any(len(d) != 11 for d in dates):
        text = np.datetime_as_string(us, unit="us").astype(object) + "Z"
        return pa.array(text, _LS, mask=~valid)
    out = np.empty((n, 27), dtype=np.uint8)
    out[:, :11] = np.frombuffer(b"".join(dates), dtype=np.uint8).reshape(-1, 11)[which]
    secs, micros = np.divmod(in_day, 1_000_000)
    hours, rest = np.divmod(secs, 3600)
    minutes, seconds = np.divmod(rest, 60)
    zero = ord("0")
    for pos, number, width in ((11, hours, 2), (14, minutes, 2), (17, seconds, 2), (20, micros, 6)):
        for k in range(width):
            out[:, pos + width - 1 - k] = zero + (number // 10**k) % 10
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord(".")
    out[:, 26] = ord("Z")
    offsets = np.arange(0, 27 * (n + 1), 27, dtype=np.int64)
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        _LS, n, [validity, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())]
    )


def _utc_naive(value: object) -> pd.Timestamp | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    t = pd.Timestamp(value)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def _click_search(col: Callable[[str], pd.Series]) -> pa.Array:
    """``,"search":"?<click_id_type>=<click_id>"`` where the page URL lacks the click id."""
    ctype = _strings(col("click_id_type"), "click_id_type")
    cid = _strings(col("click_id"), "click_id")
    wanted = pc.fill_null(
        pc.and_(pc.greater(pc.binary_length(ctype), 0), pc.greater(pc.binary_length(cid), 0)),
        False,
    )
    idx = np.flatnonzero(wanted.to_numpy(zero_copy_only=False))
    if not len(idx):
        return pa.nulls(len(ctype), _LS)
    sub_type, sub_id = ctype.take(idx), cid.take(idx)
    url = pc.fill_null(_strings(col("page_url"), "page_url").take(idx), "")
    keep = np.zeros(len(idx), dtype=bool)
    for t in pc.unique(sub_type).to_pylist():
        of_type = pc.equal(sub_type, t).to_numpy(zero_copy_only=False)
        in_url = pc.match_substring(url, f"{t}=").to_numpy(zero_copy_only=False)
        keep |= of_type & ~in_url
    text = _members(',"search":', _join("?", sub_type, "=", sub_id)).to_pylist()
    out = np.full(len(ctype), None, dtype=object)
    out[idx[keep]] = np.asarray(text, dtype=object)[keep]
    return pa.array(out, _LS)


def _extra_properties(values: pd.Series) -> dict[str, pa.Array]:
    """``properties_json`` parsed once per distinct value, as members per row (each
    ``,"key":value``): ``properties`` (all but the order keys), ``traits`` (all but the PII
    keys; both null when empty) and the member of each of those keys it holds."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = _ORDER_KEYS + _PII_KEYS
    parts: dict[str, list[str | None]] = {k: [] for k in ("properties", "traits", *keys)}
    for text in uniques:
        extra = json.loads(text) if text else {}
        if not isinstance(extra, dict):
            raise ValueError(
                f"events writer: properties_json {str(text)[:80]!r} is not a JSON object"
            )
        for part, drop in (("properties", _ORDER_KEYS), ("traits", _PII_KEYS)):
            kept = {k: v for k, v in extra.items() if k not in drop}
            parts[part].append("," + json.dumps(kept, separators=_SEP)[1:-1] if kept else None)
        for k in keys:
            member = json.dumps({k: extra[k]}, separators=_SEP)[1:-1] if k in extra else None
            parts[k].append(None if member is None else "," + member)
    index = pa.array(codes, pa.int64(), mask=codes < 0)
    return {k: pa.array(v, _LS).take(index) for k, v in parts.items()}


SOURCE = EventsSource()
