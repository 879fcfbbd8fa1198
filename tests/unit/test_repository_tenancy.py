"""Every query over a tenant's rows takes the tenant (docs/tenants.md, "Isolation").

Reads each `db/*_repository.py` with the ast module, rebuilds the SQL text every `execute`/`executemany`
runs (string constants, f-strings, concatenations, `.format`/`.join`, module constants, the module's helper
functions that return fragments, and the fragments a function collects in a list), finds the tables it
names, and fails on a statement that uses a table with a `tenant_id` column (found in the migrations)
without tying that use to a tenant (unscoped_tables says how). Naming tenant_id only in a SELECT list or
RETURNING does not count. The few statements that may cross tenants are named in ALLOWED with their reason.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

DB = Path(__file__).resolve().parents[2] / "layers" / "shared" / "python" / "mostrador" / "db"

# "<module>.<function>" (methods: "<module>.<Class>.<method>") -> why it may cross tenants.
ALLOWED = {
    "tenant_repository.list_tenants": "the operator's list of every tenant, with each one's channel and key "
    "counts (manage_tenants only)",
    "tenant_repository.count_tenants": "how many tenants exist (a second tenant is refused while one claims "
    "unrouted ids)",
    "tenant_repository.routing_rows": "the routing document: every active tenant's channel ids and key hashes, "
    "published for the functions that route events and keys to a tenant",
    "tenant_repository.support_board_bot_owner": "which tenant already owns a Support Board URL + bot user "
    "(one bot answers for one tenant: the check behind the 409)",
    "access_repository.find_active_token": "an admin token's secret hash is the lookup key; the row it finds "
    "names the tenant the request then acts for",
}

# Functions that run SQL they are given -> the function that builds it (whose statement is checked instead).
PASSED_IN = {"search_repository.run_with_settings": "search_repository.candidate_query"}


@dataclass(frozen=True)
class Statement:
    where: str  # "<module>.<function>"
    line: int
    sql: str


def tenant_tables() -> set[str]:
    """Tables whose definition (or a later ALTER TABLE) has a tenant_id column."""
    tables: set[str] = set()
    for migration in sorted((DB / "migrations").glob("*.sql")):
        text = re.sub(r"--[^\n]*", "", migration.read_text())
        for found in re.finditer(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)\s*\(", text, re.I):
            depth, end = 1, found.end()
            while depth and end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            if re.search(r"\btenant_id\b", text[found.end() : end]):
                tables.add(found[1].lower())
        for found in re.finditer(
            r"ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(\w+)[^;]*ADD COLUMN[^;]*\btenant_id\b", text, re.I
        ):
            tables.add(found[1].lower())
    return tables


class _SqlText:
    """The SQL an expression evaluates to, as far as the source tells it."""

    def __init__(self, module: ast.Module, function: ast.FunctionDef) -> None:
        self.function = function
        self.module_functions = {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}
        self.module_values = {
            target.id: node.value
            for node in module.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and node.value is not None
        }

    def local_values(self, name: str) -> list[ast.expr]:
        """What a function-local name is assigned, appended, extended or added in the function."""
        values: list[ast.expr] = []
        for node in ast.walk(self.function):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                values.append(node.value)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
                values.append(node.iter)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
                if node.target.id == name and node.value is not None:
                    values.append(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("append", "extend", "insert")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
            ):
                values.extend(node.args)
        return values

    def text(self, node: ast.AST | None, seen: frozenset[str] = frozenset()) -> str:
        if node is None:
            return ""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else ""
        if isinstance(node, ast.JoinedStr):
            return "".join(self.text(part, seen) for part in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.text(node.value, seen)
        if isinstance(node, ast.BinOp):
            return self.text(node.left, seen) + " " + self.text(node.right, seen)
        if isinstance(node, ast.Name):
            if node.id in seen:
                return ""
            inner = seen | {node.id}
            local = self.local_values(node.id)
            if local:
                return " ".join(self.text(value, inner) for value in local)
            return self.text(self.module_values.get(node.id), inner)
        if isinstance(node, ast.Call):
            parts = [self.text(arg, seen) for arg in (*node.args, *(k.value for k in node.keywords))]
            if isinstance(node.func, ast.Attribute):
                parts.insert(0, self.text(node.func.value, seen))
            elif isinstance(node.func, ast.Name) and node.func.id in self.module_functions and node.func.id not in seen:
                # A helper of the module that builds part of the statement: what it returns.
                helper = self.module_functions[node.func.id]
                inner = _SqlText.__new__(_SqlText)
                inner.function, inner.module_functions = helper, self.module_functions
                inner.module_values = self.module_values
                returned = [r.value for r in ast.walk(helper) if isinstance(r, ast.Return) and r.value is not None]
                parts += [inner.text(value, seen | {node.func.id}) for value in returned]
            return " ".join(parts)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return " ".join(self.text(e, seen) for e in node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.text(node.elt, seen)
        if isinstance(node, ast.IfExp):
            return self.text(node.body, seen) + " " + self.text(node.orelse, seen)
        if isinstance(node, ast.BoolOp):
            return " ".join(self.text(v, seen) for v in node.values)
        return ""


def _functions(module: ast.Module) -> list[tuple[str, ast.FunctionDef]]:
    found: list[tuple[str, ast.FunctionDef]] = []
    for node in module.body:
        if isinstance(node, ast.FunctionDef):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [(f"{node.name}.{f.name}", f) for f in node.body if isinstance(f, ast.FunctionDef)]
    return found


def repository_statements() -> list[Statement]:
    """Each execute's SQL; for a function in PASSED_IN, the SQL its builder returns instead."""
    statements = []
    builders = set(PASSED_IN.values())
    for path in sorted(DB.glob("*_repository.py")):
        module = ast.parse(path.read_text())
        for name, function in _functions(module):
            where, sql = f"{path.stem}.{name}", _SqlText(module, function)
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("execute", "executemany")
                    and node.args
                ):
                    text = sql.text(node.args[0])
                    if not text.strip() and where in PASSED_IN:
                        continue  # checked where it is built
                    statements.append(Statement(where, node.lineno, text))
                elif isinstance(node, ast.Return) and where in builders:
                    statements.append(Statement(where, node.lineno, sql.text(node.value)))
    return statements


def test_every_statement_is_read_from_the_source() -> None:
    """A statement whose SQL the scan cannot see (built elsewhere and passed in) would pass unchecked."""
    blind = [f"{s.where} line {s.line}" for s in repository_statements() if not s.sql.strip()]
    assert blind == [], f"name the function that builds their SQL in PASSED_IN: {blind}"


# A table named after FROM, JOIN, UPDATE or INTO (not a function such as unnest(…)), and its alias.
_TABLE = re.compile(
    r"\b(FROM|JOIN|UPDATE|INTO)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)\b(?!\s*\()(?:\s+(?:AS\s+)?([a-z_][a-z0-9_]*))?", re.I
)
# Words that follow a table name without being its alias.
_NOT_ALIASES = frozenset(
    re.findall(
        r"\w+",
        "where on set join left right inner outer cross full natural lateral order group limit using values select "
        "returning union and or as for having window offset fetch default except intersect do",
    )
)
# A value a tenant_id is compared with: a parameter, a literal (format()'s %L too), or = ANY(parameter).
_VALUE = r"(?:%s|%%L|%\(\w+\)s|'[^']*'|ANY\s*\(\s*%)"
_COMPARED = r"\s*(?:=|IN\b|IS NOT DISTINCT FROM)\s*"
_LOOSE_FILTER = re.compile(rf"(?<![\w.])tenant_id{_COMPARED}{_VALUE}|{_VALUE}\s*=\s*tenant_id\b", re.I)
_JOINED = re.compile(r"(?<![\w.])(\w+)\.tenant_id\s*=\s*(\w+)\.tenant_id\b", re.I)
_LOOSE_JOINED = re.compile(r"(?<![\w.])tenant_id\s*=\s*(\w+)\.tenant_id\b", re.I)


def tables_of(sql: str) -> set[str]:
    return {match[2].lower() for match in _TABLE.finditer(sql)}


@dataclass
class _Use:
    """One place a statement names a tenant table, by its name and its alias."""

    keyword: str
    table: str
    names: set[str]
    tied: bool = False


def unscoped_tables(sql: str, tables: set[str]) -> list[str]:
    """The tenant tables in `sql` whose rows it does not tie to a tenant. A use of a table is tied when
    - it is compared with a value: `alias.tenant_id = %s` (`= ANY(%s)`, `IN`, a literal), or it is an
      INSERT that writes tenant_id;
    - it is joined on tenant_id to a tied use (`x.tenant_id = alias.tenant_id`, `USING (tenant_id …)`),
      directly or through others: `FROM tenants t` with only `c.tenant_id = t.tenant_id` in a subquery
      is not tied (nothing ties c);
    - one of the statement's unqualified `tenant_id = %s` is left for it (each counts for one use, given
      out after the joins, in the order the uses appear).
    Aliases are matched by name: one alias reused in two parts of a statement counts as one."""
    uses = []
    for match in _TABLE.finditer(sql):
        table, alias = match[2].lower(), (match[3] or "").lower()
        if table in tables:
            uses.append(_Use(match[1].upper(), table, {table} | ({alias} - {""} - _NOT_ALIASES)))
    for use in uses:
        names = "|".join(re.escape(name) for name in use.names)
        inserted = rf"\bINTO\s+{use.table}(?:\s+AS\s+\w+)?\s*\([^)]*\btenant_id\b"
        compared = rf"\b(?:{names})\.tenant_id{_COMPARED}{_VALUE}|{_VALUE}\s*=\s*(?:{names})\.tenant_id\b"
        use.tied = bool((use.keyword == "INTO" and re.search(inserted, sql, re.I)) or re.search(compared, sql, re.I))
    joins = [(a.lower(), b.lower()) for a, b in _JOINED.findall(sql)]
    loose_joins = [b.lower() for b in _LOOSE_JOINED.findall(sql)]
    loose_filters = len(_LOOSE_FILTER.findall(sql))
    while True:
        changed = True
        while changed:
            changed = False
            tied = {name for use in uses if use.tied for name in use.names}
            for use in uses:
                if use.tied:
                    continue
                using = re.search(rf"\b{use.table}\b[^()]*?\bUSING\s*\(\s*tenant_id\b", sql, re.I)
                if (
                    any((a in use.names and b in tied) or (b in use.names and a in tied) for a, b in joins)
                    or (tied and using)
                    or any(name in tied for name in loose_joins)
                ):
                    use.tied = changed = True
        untied = [use for use in uses if not use.tied]
        if not untied or not loose_filters:
            return [use.table for use in untied]
        untied[0].tied, loose_filters = True, loose_filters - 1


def unscoped(statements: list[Statement], tables: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in statements:
        missing = unscoped_tables(statement.sql, tables)
        if missing:
            found.setdefault(statement.where, []).append(f"line {statement.line}: {', '.join(sorted(set(missing)))}")
    return found


def test_the_scan_reads_the_migrations_and_the_statements() -> None:
    tables = tenant_tables()
    assert {"products", "messages", "tool_calls", "admin_tokens", "knowledge_chunks", "tenants"} <= tables
    assert "schema_migrations" not in tables
    statements = repository_statements()
    assert len(statements) > 150
    where = {s.where for s in statements}
    assert {"conversation_repository.store_reply_draft", "search_repository.product_cards"} <= where
    # The search's statement is assembled from fragments; they are all found.
    [candidates] = [s for s in statements if s.where == "search_repository.candidate_query"]
    assert {"products", "product_stock"} <= tables_of(candidates.sql)
    assert not unscoped_tables(candidates.sql, tables)


def test_the_rule_tells_a_filter_from_a_column_only_returned() -> None:
    tables = {"messages", "tool_calls"}
    statements = [
        Statement("m.by_id", 1, "UPDATE messages SET state = %s WHERE id = %s RETURNING tenant_id"),
        Statement("m.scoped", 2, "UPDATE messages SET state = %s WHERE tenant_id = %s AND id = %s"),
        Statement(
            "m.joined",
            3,
            "SELECT 1 FROM messages m JOIN tool_calls t ON t.tenant_id = m.tenant_id WHERE t.tenant_id = %s",
        ),
        Statement("m.inserted", 4, "INSERT INTO messages (tenant_id, text) VALUES (%s, %s)"),
        Statement("m.other_table", 5, "SELECT 1 FROM schema_migrations"),
        Statement("m.function_call", 6, "SELECT * FROM unnest(%s) AS t(messages)"),
        Statement("m.aliased_insert", 7, "INSERT INTO messages AS m (tenant_id, text) VALUES (%s, %s)"),
        # One filter, two occurrences: the second (the join's) is tied to no tenant.
        Statement("m.half", 8, "SELECT 1 FROM messages a JOIN messages b ON b.id = a.reply_id WHERE a.tenant_id = %s"),
        Statement(
            "m.both", 9, "SELECT 1 FROM messages a JOIN messages b ON b.tenant_id = a.tenant_id WHERE a.tenant_id = %s"
        ),
        Statement("m.unrelated_exists", 10, "SELECT 1 FROM messages WHERE id = %s AND EXISTS (SELECT 1 FROM x)"),
        # Correlated on tenant_id, but nothing ties either side to one tenant: every tenant's rows.
        Statement(
            "m.every_tenant",
            11,
            "SELECT m.*, (SELECT count(*) FROM messages c WHERE c.tenant_id = m.tenant_id) FROM messages m",
        ),
        Statement(
            "m.loose", 12, "SELECT 1 FROM messages m WHERE m.id IN (SELECT id FROM messages WHERE tenant_id = %s)"
        ),
        Statement("m.any", 13, "DELETE FROM messages WHERE tenant_id = ANY(%s)"),
        Statement("m.format_literal", 14, "SELECT format('SELECT 1 FROM messages WHERE tenant_id = %%L', %s::text)"),
    ]
    assert unscoped(statements, tables) == {
        "m.by_id": ["line 1: messages"],
        "m.half": ["line 8: messages"],
        "m.unrelated_exists": ["line 10: messages"],
        "m.every_tenant": ["line 11: messages"],
        "m.loose": ["line 12: messages"],
    }


def test_every_statement_over_a_tenant_table_takes_the_tenant() -> None:
    found = unscoped(repository_statements(), tenant_tables())
    unexplained = {where: lines for where, lines in found.items() if where not in ALLOWED}
    assert unexplained == {}, (
        "these statements reach tenant tables without constraining tenant_id; add the tenant "
        "(a tenant_id parameter and `AND tenant_id = %s`), or name the function in ALLOWED with why it "
        f"may cross tenants: {unexplained}"
    )


def test_every_allowed_function_still_crosses_tenants() -> None:
    """An entry whose statements now take the tenant (or that no longer exists) goes: the list stays short."""
    found = unscoped(repository_statements(), tenant_tables())
    assert sorted(set(ALLOWED) - set(found)) == []
