"""Lint the dbt project's SQL for DuckDB-only idioms (the project must also build on Spark).

``python -m pipelines.portability [DBT_PROJECT_DIR]`` prints one line per finding
(``file:line: idiom: text``) and exits 1 when there is any. Scanned: every ``.sql`` file
under ``models/``, ``macros/``, ``tests/`` and ``analyses/``. Not scanned: the bodies of
``duckdb__*`` macros (adapter-specific implementations may use DuckDB's dialect), Jinja
comments, SQL ``--`` comments, the contents of string literals and of Jinja tags.

The idioms are those that fail on Spark SQL 4.3 (the project's recipe, "Portable SQL"):
write the dbt cross-database macro or a project macro dispatched by adapter instead
(``macros/portable.sql``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import DBT_PROJECT_DIR

SCANNED_FOLDERS = ("models", "macros", "tests", "analyses")

# (name, pattern, what to write instead)
IDIOMS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), instead)
    for name, pattern, instead in (
        ("::varchar", r"::\s*(varchar|text)\b", "cast(x as {{ dbt.type_string() }})"),
        ("cast as varchar/text", r"\bas\s+(varchar|text)\s*\)", "{{ dbt.type_string() }}"),
        ("epoch()", r"\bepoch\s*\(", "seconds_between() or dbt.datediff"),
        ("epoch_ms()", r"\bepoch_ms\s*\(", "seconds_between() or dbt.datediff"),
        ("date_diff('unit', ...)", r"\bdate_diff\s*\(\s*'", "dbt.datediff(a, b, 'day')"),
        ("strftime()", r"\bstrftime\s*\(", "dbt.date_trunc / cast to date"),
        ("strptime()", r"\bstrptime\s*\(", "cast / safe_cast"),
        ("list literal [..]", r"\[", "a union of selects, or dbt.array_construct"),
        ("list_*()", r"\blist_\w+\s*\(", "a join or group by"),
        ("unnest()", r"\bunnest\s*\(", "a join"),
        ("string_split()", r"\bstring_split\s*\(", "dbt.split_part"),
        ("arg_max()/arg_min()", r"\barg_(max|min)\s*\(", "max_by / min_by"),
        ("struct literal {'..': ..}", r"\{\s*'", "named columns"),
        ("select * exclude (..)", r"\bexclude\s*\(", "select * except (...) or a column list"),
        ("// integer division", r"//", "floor(a / b)"),
        ("generate_series()", r"\bgenerate_series\s*\(", "a date spine model"),
        (
            "count(distinct ..) over (..)",
            r"\bcount\s*\(\s*distinct\b[^)]*\)\s*over\s*\(",
            "a grouped subquery joined back",
        ),
    )
)

_DUCKDB_MACRO = re.compile(
    r"\{%-?\s*macro\s+duckdb__\w+.*?\{%-?\s*endmacro\s*-?%\}", re.IGNORECASE | re.DOTALL
)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class Finding:
    """One DuckDB-only idiom found in a file."""

    path: Path
    line: int
    idiom: str
    text: str
    instead: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.idiom}: {self.text.strip()} (use {self.instead})"


def _blank(match: re.Match[str]) -> str:
    """The match replaced by spaces, newlines kept (line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _blank_string(match: re.Match[str]) -> str:
    inner = match.group(0)[1:-1]
    return "'" + re.sub(r"[^\n]", " ", inner) + "'"


def _blank_jinja_tags(sql: str) -> str:
    """Blank every ``{{ .. }}`` / ``{% .. %}``, including tags nested in them."""
    out = list(sql)
    i, n = 0, len(sql)
    while i < n - 1:
        if sql[i] == "{" and sql[i + 1] in "{%":
            depth, j = 0, i
            while j < n - 1:
                pair = sql[j : j + 2]
                if pair in ("{{", "{%"):
                    depth += 1
                    j += 2
                elif pair in ("}}", "%}"):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            for k in range(i, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


def scrub(sql: str) -> str:
    """The SQL with what is not checked blanked out (same length and line breaks)."""
    sql = _DUCKDB_MACRO.sub(_blank, sql)
    sql = _JINJA_COMMENT.sub(_blank, sql)
    sql = _blank_jinja_tags(sql)
    sql = _STRING.sub(_blank_string, sql)
    return _SQL_COMMENT.sub(_blank, sql)


def lint_sql(sql: str, path: Path = Path("<sql>")) -> list[Finding]:
    """The DuckDB-only idioms in one SQL / Jinja text."""
    clean = scrub(sql)
    original = sql.splitlines()
    findings = []
    for name, pattern, instead in IDIOMS:
        for match in pattern.finditer(clean):
            line = clean.count("\n", 0, match.start()) + 1
            text = original[line - 1] if line <= len(original) else ""
            findings.append(Finding(path, line, name, text, instead))
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.idiom))


def lint_project(project_dir: Path = DBT_PROJECT_DIR) -> list[Finding]:
    """The DuckDB-only idioms in every scanned SQL file of the dbt project."""
    findings: list[Finding] = []
    for folder in SCANNED_FOLDERS:
        root = project_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.sql")):
            findings += lint_sql(path.read_text(encoding="utf-8"), path.relative_to(project_dir))
    return findings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    project = Path(args[0]) if args else DBT_PROJECT_DIR
    findings = lint_project(project)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} DuckDB-only idiom(s) in {project}: use dbt's cross-database "
            f"macros or a macro dispatched by adapter (macros/portable.sql)."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
