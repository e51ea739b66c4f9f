//! What the linter knows while it walks a file: which tables and indexes the file created so
//! far, the keys that cover foreign keys, column types, pending `NOT VALID` constraints, and
//! the session settings that change what a statement risks.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, ContextModifier,
    CreateTable, DataType, Expr, FromTable, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, Ident, IndexColumn, Insert, ObjectName, ObjectNamePart, ObjectType, Query,
    RenameTableNameKind, Reset, SelectItem, Set, SetExpr, SqliteOnConflict, Statement,
    TableConstraint, TableFactor, TableObject, TableWithJoins, Value,
};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token, Tokenizer};

use super::LintInput;
use super::facts::LintFacts;
use crate::schema::{self, Schema};

/// A table's name normalised for comparison: parts folded as the engine compares them
/// ([`LintFacts::fold`]), and the default schema dropped so `schema.users` and `users` are
/// the same table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TableKey(String);

/// A constraint or column of a table, by normalised names.
type Member = (TableKey, String);

/// A `NOT VALID` constraint added earlier in the file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NotValid {
    /// Line of the `ADD CONSTRAINT`.
    pub line: usize,
    /// The column, when the constraint is `CHECK (column IS NOT NULL)`.
    pub(crate) not_null_column: Option<String>,
}

/// What a statement's checks may ask about that statements after it can change: the keys of
/// the file (an index created after a foreign key still covers it), the drops that are one
/// step of a table rebuild (the rename that completes it comes after the drop), and what may
/// still fail after a statement committed.
#[derive(Default)]
struct Facts {
    /// Key column lists (`None` for an expression) of every index, primary key and unique
    /// constraint in the file or the live schema, by table.
    keys: HashMap<TableKey, Vec<Vec<Option<String>>>>,
    /// The `DROP TABLE`s that are one step of a table rebuild, by position in the file's
    /// statements and dropped table, with the copy (its index in `copies`) that saved its
    /// rows: see [`Walk::is_rebuilt`].
    rebuild_drops: HashMap<(usize, TableKey), usize>,
    /// The copies of every row of a table read so far.
    copies: Vec<FullCopy>,
    /// The virtual tables created so far: what a copy into one keeps is up to its module (a
    /// contentless FTS5 table keeps none of the text), so it is no full copy.
    virtual_tables: HashSet<TableKey>,
    /// (position, dropped table, indexes in `copies` of the copies of its rows): the drops
    /// read so far that a later rename may make a rebuild.
    drops: Vec<(usize, TableKey, Vec<usize>)>,
    /// The name each table renamed in the file takes.
    renames: HashMap<TableKey, TableKey>,
    /// The positions of the statements that end a transaction the file opened itself, in
    /// order, and whether each commits it (`COMMIT`, `END`) rather than rolls it back.
    transaction_ends: Vec<(usize, bool)>,
    /// The position of the last statement that can fail: any but transaction control and the
    /// settings (`SET`, `RESET`, `PRAGMA`) that a file ends with to restore its connection.
    last_fallible: Option<usize>,
    /// The line of the first statement that commits implicitly
    /// ([`super::LintRules::commits_implicitly`]).
    first_implicit_commit: Option<usize>,
    /// Every statement of the file has been learnt.
    complete: bool,
}

/// An index, primary key or unique constraint that exists at the statement being checked.
struct Key {
    /// The index's name; `None` for a constraint, which only goes with its table.
    index: Option<TableKey>,
    /// Its key columns (`None` for an expression).
    columns: Vec<Option<String>>,
}

/// A key a statement creates.
struct CreatedKey {
    table: TableKey,
    key: Key,
    /// An index with a `WHERE` clause, which covers only some rows.
    partial: bool,
}

/// `INSERT INTO target SELECT columns FROM source` copying every row.
struct FullCopy {
    target: TableKey,
    source: TableKey,
    /// The columns the select list reads; `None`: `*`.
    columns: Option<HashSet<String>>,
    /// (target column, source column) for each column of the target's column list that the
    /// select list fills with a source column as it is.
    pairs: Vec<(String, String)>,
}

/// The walk over one file's statements, in order.
///
/// The first walk learns the facts of each statement that the checks of every statement may
/// ask about (`Facts`) as it reaches it, so it knows only those of the statements so far.
/// Where a check asks a question that a later statement could answer otherwise, the walk notes
/// it (`Walk::uncertain`), and the file is walked again (`Walk::again`) knowing the facts of
/// all of it. Most files, and every file of plain data, never ask, and are read once.
///
/// A dialect's checks ([`super::LintRules::check`]) read it: what the file did before the
/// statement being checked, and what the live schema holds.
pub struct Walk<'a> {
    /// What the engine is like.
    facts: LintFacts,
    /// Whether the file runs in a transaction.
    transactional: bool,
    /// The file, for messages that point at another line.
    origin: &'a str,
    schema: Option<&'a Schema>,
    parser_dialect: &'a dyn Dialect,
    known: Facts,
    /// A check asked what a later statement could answer otherwise.
    uncertain: Cell<bool>,
    new_tables: HashSet<TableKey>,
    new_indexes: HashSet<TableKey>,
    column_types: HashMap<Member, DataType>,
    /// The columns of the live schema the file renamed (to `Some` name) or dropped so far, in
    /// order, by table.
    live_column_changes: HashMap<TableKey, Vec<(String, Option<String>)>>,
    /// The indexes, primary keys and unique constraints of each table at the statement being
    /// checked: the live schema's and those the file created, less those it dropped.
    keys_now: HashMap<TableKey, Vec<Key>>,
    /// The table of each named index in `keys_now`.
    index_tables: HashMap<TableKey, TableKey>,
    not_valid: HashMap<Member, NotValid>,
    validated_not_null: HashSet<Member>,
    /// Position of the statement being checked.
    position: usize,
    /// A non-zero session `lock_timeout` (`SET`, `set_config(..., false)`) is in force.
    session_lock_timeout: bool,
    /// The transaction-local `lock_timeout` (`SET LOCAL`, `set_config(..., true)`) while it
    /// lasts: whether it is non-zero.
    local_lock_timeout: Option<bool>,
    /// A `-- godwit:no-transaction` file is inside its own `BEGIN` ... `COMMIT`.
    in_explicit_transaction: bool,
    /// A statement took a blocking lock with no lock timeout set (it is reported once per
    /// file).
    lock_timeout_reported: bool,
    /// Line of the first `CONCURRENTLY` statement.
    first_concurrently: Option<usize>,
    /// Line of the first statement that writes rows of a table that existed before the file
    /// ([`row_target`]).
    first_row_change: Option<usize>,
}

impl std::fmt::Debug for Walk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What it learnt of the file is large and of use only inside the engine.
        f.debug_struct("Walk")
            .field("facts", &self.facts)
            .field("transactional", &self.transactional)
            .field("origin", &self.origin)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl<'a> Walk<'a> {
    /// A walk over a file, knowing the keys of the live schema.
    pub(super) fn new(
        input: &LintInput<'a>,
        parser_dialect: &'a dyn Dialect,
        engine: LintFacts,
    ) -> Self {
        let mut walk = Walk::with_facts(input, parser_dialect, engine, Facts::default());
        for created in walk.live_keys() {
            if !created.partial {
                let columns = created.key.columns.clone();
                walk.known
                    .keys
                    .entry(created.table.clone())
                    .or_default()
                    .push(columns);
            }
            walk.add_key(created);
        }
        walk
    }

    fn with_facts(
        input: &LintInput<'a>,
        parser_dialect: &'a dyn Dialect,
        engine: LintFacts,
        facts: Facts,
    ) -> Self {
        Walk {
            facts: engine,
            transactional: input.transactional,
            origin: input.origin,
            schema: input.schema,
            parser_dialect,
            known: facts,
            uncertain: Cell::new(false),
            new_tables: HashSet::new(),
            new_indexes: HashSet::new(),
            column_types: HashMap::new(),
            live_column_changes: HashMap::new(),
            keys_now: HashMap::new(),
            index_tables: HashMap::new(),
            not_valid: HashMap::new(),
            validated_not_null: HashSet::new(),
            position: 0,
            session_lock_timeout: false,
            local_lock_timeout: None,
            in_explicit_transaction: false,
            lock_timeout_reported: false,
            first_concurrently: None,
            first_row_change: None,
        }
    }

    /// Whether a check asked what a statement after it could answer otherwise, so that the
    /// file must be walked [`again`](Self::again).
    pub(super) fn uncertain(&self) -> bool {
        self.uncertain.get()
    }

    /// A new walk from the start of the same file, knowing what this one learnt of all of it.
    pub(super) fn again(self, input: &LintInput<'a>) -> Self {
        let facts = Facts {
            complete: true,
            ..self.known
        };
        let mut walk = Walk::with_facts(input, self.parser_dialect, self.facts, facts);
        for created in walk.live_keys() {
            walk.add_key(created);
        }
        walk
    }

    /// Note that the answer to a check's question may change further down the file, unless
    /// the whole file is known already.
    fn may_change(&self) {
        if !self.known.complete {
            self.uncertain.set(true);
        }
    }

    /// Make the statement at `position` in the file the one being checked.
    pub(super) fn reach(&mut self, position: usize) {
        self.position = position;
    }

    /// Record that a statement the parser could not read creates `table`: it is new for the
    /// statements after it.
    pub(super) fn creates(&mut self, table: &ObjectName) {
        self.new_tables.insert(self.table(table));
    }

    /// Record that the statement on `line` runs concurrently with other sessions' writes.
    pub(super) fn concurrently_at(&mut self, line: usize) {
        self.first_concurrently.get_or_insert(line);
    }

    /// What the engine is like.
    pub fn facts(&self) -> &LintFacts {
        &self.facts
    }

    /// Whether the file runs in a transaction.
    pub fn transactional(&self) -> bool {
        self.transactional
    }

    /// The file, for messages that point at another line (`origin:line`).
    pub fn origin(&self) -> &str {
        self.origin
    }

    /// A statement before this one took a blocking lock with no lock timeout set (see
    /// [`super::LintRules::takes_blocking_lock`]): a rule that says so says it once per file.
    pub fn lock_timeout_reported(&self) -> bool {
        self.lock_timeout_reported
    }

    /// The line of the first statement before this one that runs concurrently with other
    /// sessions' writes (see [`super::LintRules::is_concurrent`]).
    pub fn first_concurrently(&self) -> Option<usize> {
        self.first_concurrently
    }

    /// The line of a statement before this one that writes rows (`INSERT`, `UPDATE`,
    /// `DELETE`) of a table that existed before the file: a rule about a file's changes of
    /// existing data says so once, at the first.
    pub fn rows_changed_before(&self) -> Option<usize> {
        self.first_row_change
    }

    /// The line of the first statement of the whole file, before or after this one, that
    /// commits implicitly ([`super::LintRules::commits_implicitly`]).
    pub fn implicit_commit(&self) -> Option<usize> {
        let line = self.known.first_implicit_commit;
        // Statements learnt so far end at this one, so only the whole file can say no.
        if line.is_none() {
            self.may_change();
        }
        line
    }

    /// Learn that the statement on `line` commits implicitly.
    pub(super) fn learn_implicit_commit(&mut self, line: usize) {
        if !self.known.complete {
            self.known.first_implicit_commit.get_or_insert(line);
        }
    }

    /// Normalised key of an identifier: as the engine compares it.
    pub fn ident(&self, ident: &Ident) -> String {
        self.facts.fold(ident)
    }

    /// Normalised key of a table (or index) name.
    fn table(&self, name: &ObjectName) -> TableKey {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => self.ident(ident),
                other => other.to_string(),
            })
            .collect();
        match parts.as_slice() {
            [schema, name] if self.is_default_schema(schema) => TableKey(name.clone()),
            parts => TableKey(parts.join(".")),
        }
    }

    /// The schema unqualified names resolve to ([`LintFacts::default_schema`]).
    fn is_default_schema(&self, schema: &str) -> bool {
        self.facts.default_schema == Some(schema)
    }

    fn schema_table(&self, name: &schema::Name) -> TableKey {
        let fold = |s: &str| self.facts.fold_live(s);
        TableKey(match name.schema.as_deref() {
            Some(schema) if !self.is_default_schema(schema) => {
                format!("{}.{}", fold(schema), fold(&name.name))
            }
            _ => fold(&name.name),
        })
    }

    /// Whether the table was created earlier in this file: it is new and empty, and nobody
    /// else uses it yet.
    pub fn is_new(&self, table: &ObjectName) -> bool {
        self.new_tables.contains(&self.table(table))
    }

    /// Whether the statement being checked drops `table` as one step of a rebuild: earlier in
    /// the file every row of `table` was copied into another table (`INSERT INTO new ...
    /// SELECT ... FROM table`, with no condition, grouping, `DISTINCT`, limit or conflict
    /// clause that could leave a row behind), and later in the file that table is renamed to
    /// `table`. The rows live on under the old name, so nothing is lost. A copy that leaves out
    /// a column godwit knows `table` has (from the file or the live schema) drops that
    /// column's data, and one into a column of another type converts it, so it is no rebuild.
    pub(super) fn is_rebuilt(&self, table: &ObjectName) -> bool {
        let key = self.table(table);
        // Only a rename after it can make a drop of copied rows a rebuild.
        if self
            .known
            .drops
            .iter()
            .any(|(at, dropped, _)| *at == self.position && *dropped == key)
        {
            self.may_change();
        }
        let Some(&copy) = self.known.rebuild_drops.get(&(self.position, key.clone())) else {
            return false;
        };
        let copy = &self.known.copies[copy];
        let every_column = copy.columns.as_ref().is_none_or(|copied| {
            self.known_columns(&key)
                .iter()
                .all(|column| copied.contains(column))
        });
        let converts = copy.pairs.iter().any(|(target, source)| {
            match (
                self.column_types
                    .get(&(copy.target.clone(), target.clone())),
                self.column_type_of(&copy.source, source),
            ) {
                (Some(to), Some(from)) => !to.to_string().eq_ignore_ascii_case(&from.to_string()),
                _ => false,
            }
        });
        every_column && !converts
    }

    /// The columns of `table` created or added earlier in the file or in the live schema.
    /// The live columns are taken as the file renamed and dropped them so far.
    fn known_columns(&self, table: &TableKey) -> HashSet<String> {
        let mut columns: HashSet<String> = self
            .schema
            .and_then(|schema| {
                schema
                    .tables
                    .iter()
                    .find(|t| self.schema_table(&t.name) == *table)
            })
            .map(|live| {
                live.columns
                    .iter()
                    .map(|c| self.fold_live(&c.name))
                    .collect()
            })
            .unwrap_or_default();
        for (from, to) in self.live_column_changes.get(table).into_iter().flatten() {
            if columns.remove(from) {
                columns.extend(to.clone());
            }
        }
        columns.extend(
            self.column_types
                .keys()
                .filter(|(owner, _)| owner == table)
                .map(|(_, column)| column.clone()),
        );
        columns
    }

    /// Whether what the statement being checked creates may be left behind by a failure of
    /// a later statement, for a run of the migration again to meet: it is committed before
    /// the migration ends and a statement that can fail comes after that commit. On an engine
    /// whose DDL takes part in transactions, a statement commits with the transaction godwit
    /// runs the migration in (so never before the migration ends), or with the `COMMIT` that
    /// ends a `-- godwit:no-transaction` file's own transaction, or by itself outside any. On
    /// another engine DDL may commit by itself anywhere.
    pub(super) fn committed_before_a_failure(&self) -> bool {
        let transactional_ddl = self.facts.transactional_ddl;
        if transactional_ddl && self.transactional {
            return false;
        }
        let committed_at = if transactional_ddl && self.in_explicit_transaction {
            let ends = &self.known.transaction_ends;
            let next = ends.partition_point(|&(at, _)| at <= self.position);
            match ends.get(next) {
                Some(&(at, true)) => at,
                // Rolled back, or (so far) never ended: nothing of it stays.
                Some(&(_, false)) => return false,
                None => {
                    self.may_change();
                    return false;
                }
            }
        } else {
            self.position
        };
        let fails_later = self
            .known
            .last_fallible
            .is_some_and(|last| last > committed_at);
        // Statements learnt so far end at this one, so only the whole file can say yes.
        if !fails_later {
            self.may_change();
        }
        fails_later
    }

    /// Whether the index was created earlier in this file.
    pub fn is_new_index(&self, index: &ObjectName) -> bool {
        self.new_indexes.contains(&self.table(index))
    }

    /// Whether an index, primary key or unique constraint of `table` (in the file or the live
    /// schema, without a predicate) leads with exactly `columns`, in any order; also one made
    /// after the file renames the table.
    pub(super) fn is_covered(&self, table: &ObjectName, columns: &[String]) -> bool {
        let leads = |list: &Vec<Option<String>>| {
            let Some(leading) = list.get(..columns.len()) else {
                return false;
            };
            leading
                .iter()
                .all(|key| key.as_ref().is_some_and(|key| columns.contains(key)))
                && columns
                    .iter()
                    .all(|column| leading.iter().any(|key| key.as_ref() == Some(column)))
        };
        // The table under each name the file gives it: a rebuild's new table gets its indexes
        // after it takes the old table's name.
        let mut name = self.table(table);
        let mut covered = false;
        for _ in 0..=self.known.renames.len() {
            covered = self
                .known
                .keys
                .get(&name)
                .is_some_and(|lists| lists.iter().any(leads));
            match self.known.renames.get(&name) {
                Some(next) if !covered => name = next.clone(),
                _ => break,
            }
        }
        // Keys are only ever added, so only a "no" can change.
        if !covered {
            self.may_change();
        }
        covered
    }

    /// Whether `column` of `table` is part of an index, primary key or unique constraint
    /// that exists at this statement: one of the live schema or created earlier in the file,
    /// and not dropped since.
    pub fn is_indexed(&self, table: &ObjectName, column: &str) -> bool {
        self.keys_now.get(&self.table(table)).is_some_and(|keys| {
            keys.iter()
                .any(|key| key.columns.iter().any(|c| c.as_deref() == Some(column)))
        })
    }

    /// The current type of a column, from earlier in the file or the live schema.
    pub fn column_type(&self, table: &ObjectName, column: &str) -> Option<DataType> {
        self.column_type_of(&self.table(table), column)
    }

    /// [`Self::column_type`] by normalised names. A live column renamed earlier in the file is
    /// found under its new name.
    fn column_type_of(&self, key: &TableKey, column: &str) -> Option<DataType> {
        if let Some(data_type) = self.column_types.get(&(key.clone(), column.to_string())) {
            return Some(data_type.clone());
        }
        let mut live_name = column.to_string();
        for (from, to) in self
            .live_column_changes
            .get(key)
            .into_iter()
            .flatten()
            .rev()
        {
            if to.as_ref() == Some(&live_name) {
                live_name.clone_from(from);
            }
        }
        let live = self
            .schema?
            .tables
            .iter()
            .find(|t| self.schema_table(&t.name) == *key)?
            .columns
            .iter()
            .find(|c| self.fold_live(&c.name) == live_name)?;
        Parser::new(self.parser_dialect)
            .try_with_sql(&live.data_type)
            .and_then(|mut parser| parser.parse_data_type())
            .ok()
    }

    /// The `NOT VALID` constraint `name` of `table` added earlier in the file.
    pub fn not_valid(&self, table: &ObjectName, name: &Ident) -> Option<&NotValid> {
        self.not_valid.get(&(self.table(table), self.ident(name)))
    }

    /// Whether a `CHECK (column IS NOT NULL)` of `table` was validated earlier in the file or
    /// is a validated constraint of the live schema.
    pub fn not_null_validated(&self, table: &ObjectName, column: &str) -> bool {
        let key = self.table(table);
        if self
            .validated_not_null
            .contains(&(key.clone(), column.to_string()))
        {
            return true;
        }
        let Some(live) = self.schema.and_then(|schema| {
            schema
                .tables
                .iter()
                .find(|t| self.schema_table(&t.name) == key)
        }) else {
            return false;
        };
        live.checks
            .iter()
            .any(|check| self.live_not_null_check(&check.expression).as_deref() == Some(column))
    }

    /// The column of a live, validated `CHECK (column IS NOT NULL)`, from its definition as
    /// the catalog prints it (`CHECK ((email IS NOT NULL))`, with ` NOT VALID` until it is
    /// validated).
    fn live_not_null_check(&self, definition: &str) -> Option<String> {
        let mut parser = Parser::new(self.parser_dialect)
            .try_with_sql(definition)
            .ok()?;
        parser.expect_keyword(Keyword::CHECK).ok()?;
        let expr = parser.parse_expr().ok()?;
        if parser.parse_keywords(&[Keyword::NOT, Keyword::VALID]) {
            return None;
        }
        is_not_null_check(&expr).map(|column| self.ident(column))
    }

    fn fold_live(&self, name: &str) -> String {
        self.facts.fold_live(name)
    }

    /// Learn what `statement`, at `position` in the file, tells the checks of every statement
    /// (see [`Facts`]). A walk that knows the whole file already learns nothing more.
    /// `None` stands for a statement the parser could not read.
    pub(super) fn learn(&mut self, position: usize, statement: Option<&Statement>) {
        if self.known.complete {
            return;
        }
        let Some(statement) = statement else {
            self.known.last_fallible = Some(position);
            return;
        };
        self.learn_keys(statement);
        self.learn_rebuild(position, statement);
        match statement {
            Statement::Commit { .. } => self.known.transaction_ends.push((position, true)),
            Statement::Rollback {
                savepoint: None, ..
            } => self.known.transaction_ends.push((position, false)),
            Statement::StartTransaction { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
            | Statement::Rollback { .. }
            | Statement::Set(_)
            | Statement::Reset(_)
            | Statement::Pragma { .. } => {}
            _ => self.known.last_fallible = Some(position),
        }
    }

    /// Gather the key columns of the indexes, primary keys and unique constraints that
    /// `statement` creates and that cover every row.
    fn learn_keys(&mut self, statement: &Statement) {
        for created in self.created_keys(statement) {
            if !created.partial {
                let keys = self.known.keys.entry(created.table).or_default();
                keys.push(created.key.columns);
            }
        }
    }

    /// The indexes, primary keys and unique constraints that `statement` creates.
    fn created_keys(&self, statement: &Statement) -> Vec<CreatedKey> {
        let constraint = |table: &TableKey, columns: Vec<Option<String>>| CreatedKey {
            table: table.clone(),
            key: Key {
                index: None,
                columns,
            },
            partial: false,
        };
        let mut found = Vec::new();
        match statement {
            Statement::CreateTable(create) => {
                let table = self.table(&create.name);
                for column in create.columns.iter().filter(|c| is_key_column(c)) {
                    found.push(constraint(&table, vec![Some(self.ident(&column.name))]));
                }
                for list in create
                    .constraints
                    .iter()
                    .filter_map(|c| self.constraint_keys(c))
                {
                    found.push(constraint(&table, list));
                }
            }
            Statement::CreateIndex(index) => found.push(CreatedKey {
                table: self.table(&index.table_name),
                key: Key {
                    index: index.name.as_ref().map(|name| self.table(name)),
                    columns: self.index_keys(&index.columns),
                },
                partial: index.predicate.is_some(),
            }),
            Statement::AlterTable(alter) => {
                let table = self.table(&alter.name);
                for operation in &alter.operations {
                    match operation {
                        AlterTableOperation::AddConstraint { constraint: c, .. } => {
                            if let Some(list) = self.constraint_keys(c) {
                                found.push(constraint(&table, list));
                            }
                        }
                        AlterTableOperation::AddColumn { column_def, .. }
                            if is_key_column(column_def) =>
                        {
                            let column = vec![Some(self.ident(&column_def.name))];
                            found.push(constraint(&table, column));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        found
    }

    /// Record that `created` exists from here on.
    fn add_key(&mut self, created: CreatedKey) {
        if let Some(index) = &created.key.index {
            self.index_tables
                .insert(index.clone(), created.table.clone());
        }
        self.keys_now
            .entry(created.table)
            .or_default()
            .push(created.key);
    }

    /// The indexes, primary keys and unique constraints of the live schema.
    fn live_keys(&self) -> Vec<CreatedKey> {
        let Some(schema) = self.schema else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for table in &schema.tables {
            let key = self.schema_table(&table.name);
            let constraint = |columns: &[String]| CreatedKey {
                table: key.clone(),
                key: Key {
                    index: None,
                    columns: columns.iter().map(|c| Some(self.fold_live(c))).collect(),
                },
                partial: false,
            };
            found.extend(table.primary_key.iter().map(|pk| constraint(&pk.columns)));
            found.extend(
                table
                    .uniques
                    .iter()
                    .map(|unique| constraint(&unique.columns)),
            );
            for index in &table.indexes {
                found.push(CreatedKey {
                    table: key.clone(),
                    key: Key {
                        index: Some(self.schema_table(&index.name)),
                        columns: index.keys.iter().map(|k| self.live_index_key(k)).collect(),
                    },
                    partial: index.predicate.is_some(),
                });
            }
        }
        found
    }

    /// Follow the steps of table rebuilds that [`Self::is_rebuilt`] exempts: full copies of a
    /// table's rows, drops of the copied table, and renames of the copy to the dropped name.
    fn learn_rebuild(&mut self, position: usize, statement: &Statement) {
        match statement {
            Statement::CreateVirtualTable { name, .. } => {
                self.known.virtual_tables.insert(self.table(name));
            }
            Statement::Insert(insert) => {
                if let Some((target, source, projection)) = full_copy(insert)
                    && !self.known.virtual_tables.contains(&self.table(target))
                {
                    let pairs = insert
                        .columns
                        .iter()
                        .zip(projection)
                        .filter_map(|(target, item)| {
                            let target = target.0.last()?.as_ident()?;
                            let (SelectItem::UnnamedExpr(expr)
                            | SelectItem::ExprWithAlias { expr, .. }) = item
                            else {
                                return None;
                            };
                            Some((self.ident(target), self.ident(plain_column(expr)?)))
                        })
                        .collect();
                    let copy = FullCopy {
                        target: self.table(target),
                        source: self.table(source),
                        columns: self.columns_read(projection),
                        pairs,
                    };
                    self.known.copies.push(copy);
                }
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for name in names {
                    let dropped = self.table(name);
                    let copies = &self.known.copies;
                    let of_dropped: Vec<usize> = (0..copies.len())
                        .filter(|&i| copies[i].source == dropped)
                        .collect();
                    if !of_dropped.is_empty() {
                        self.known.drops.push((position, dropped, of_dropped));
                    }
                }
            }
            Statement::AlterTable(_) | Statement::RenameTable(_) => {
                for (from, to) in table_renames(statement) {
                    let (from, to) = (self.table(from), self.table(to));
                    let facts = &mut self.known;
                    facts.renames.insert(from.clone(), to.clone());
                    for (at, dropped, of_dropped) in &facts.drops {
                        if *dropped != to {
                            continue;
                        }
                        if let Some(&copy) =
                            of_dropped.iter().find(|&&i| facts.copies[i].target == from)
                        {
                            facts.rebuild_drops.insert((*at, dropped.clone()), copy);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The columns a copy's select list reads, `None` for `*`. An expression is read back as
    /// tokens and every word in it counts, so `lower(email)` reads `email`: the question is
    /// only whether a column's data is left behind.
    fn columns_read(&self, projection: &[SelectItem]) -> Option<HashSet<String>> {
        let mut columns = HashSet::new();
        for item in projection {
            let expr = match item {
                SelectItem::UnnamedExpr(expr)
                | SelectItem::ExprWithAlias { expr, .. }
                | SelectItem::ExprWithAliases { expr, .. } => expr,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => return None,
            };
            let text = expr.to_string();
            let tokens = Tokenizer::new(self.parser_dialect, &text)
                .tokenize()
                .unwrap_or_default();
            for token in tokens {
                if let Token::Word(word) = token {
                    columns.insert(self.ident(&Ident {
                        value: word.value,
                        quote_style: word.quote_style,
                        span: Span::empty(),
                    }));
                }
            }
        }
        Some(columns)
    }

    fn constraint_keys(&self, constraint: &TableConstraint) -> Option<Vec<Option<String>>> {
        match constraint {
            TableConstraint::PrimaryKey(pk) => Some(self.index_keys(&pk.columns)),
            TableConstraint::Unique(unique) => Some(self.index_keys(&unique.columns)),
            TableConstraint::Index(index) => Some(self.index_keys(&index.columns)),
            _ => None,
        }
    }

    fn index_keys(&self, columns: &[IndexColumn]) -> Vec<Option<String>> {
        columns
            .iter()
            .map(|c| plain_column(&c.column.expr).map(|ident| self.ident(ident)))
            .collect()
    }

    /// A key of an introspected index (`email`, `"UserId" DESC`, `lower(email)`) as a column
    /// name, or `None` for an expression.
    fn live_index_key(&self, key: &str) -> Option<String> {
        let expr = Parser::new(self.parser_dialect)
            .try_with_sql(key)
            .and_then(|mut parser| parser.parse_order_by_expr())
            .ok()?;
        plain_column(&expr.expr).map(|ident| self.ident(ident))
    }

    /// Record what a statement changes for the statements after it. `concurrent` and
    /// `blocking` are what the dialect says of it ([`super::LintRules::is_concurrent`],
    /// [`super::LintRules::takes_blocking_lock`]).
    pub(super) fn record(
        &mut self,
        line: usize,
        statement: &Statement,
        concurrent: bool,
        blocking: bool,
    ) {
        if concurrent {
            self.first_concurrently.get_or_insert(line);
        }
        if blocking && !self.lock_timeout() {
            self.lock_timeout_reported = true;
        }
        if row_target(statement).is_some_and(|table| !self.is_new(table)) {
            self.first_row_change.get_or_insert(line);
        }
        for created in self.created_keys(statement) {
            self.add_key(created);
        }
        match statement {
            Statement::CreateTable(create) => self.record_create_table(create),
            Statement::CreateVirtualTable { name, .. } => {
                self.new_tables.insert(self.table(name));
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for name in names {
                    let table = self.table(name);
                    for key in self.keys_now.remove(&table).into_iter().flatten() {
                        if let Some(index) = key.index {
                            self.index_tables.remove(&index);
                        }
                    }
                }
            }
            Statement::Drop {
                object_type: ObjectType::Index,
                names,
                ..
            } => {
                for name in names {
                    let index = self.table(name);
                    if let Some(table) = self.index_tables.remove(&index)
                        && let Some(keys) = self.keys_now.get_mut(&table)
                    {
                        keys.retain(|key| key.index.as_ref() != Some(&index));
                    }
                }
            }
            // A materialized view and the table of a `SELECT ... INTO` are new relations that
            // nobody else uses yet, like a table created earlier in the file.
            Statement::CreateView(view) if view.materialized => {
                self.new_tables.insert(self.table(&view.name));
            }
            Statement::Query(query) => {
                if let Some((local, set)) = set_config_lock_timeout(query) {
                    self.set_lock_timeout(local, set);
                }
                if let SetExpr::Select(select) = query.body.as_ref()
                    && let Some(into) = &select.into
                {
                    for target in &into.targets {
                        if let Some(name) = expr_name(target) {
                            self.new_tables.insert(self.table(&name));
                        }
                    }
                }
            }
            Statement::CreateIndex(index) => {
                if let Some(name) = &index.name {
                    self.new_indexes.insert(self.table(name));
                }
            }
            Statement::AlterTable(alter) => {
                for operation in &alter.operations {
                    self.record_alter(line, &alter.name, operation);
                }
            }
            // MySQL's `RENAME TABLE a TO b, c TO d`, read as `ALTER TABLE a RENAME TO b`, ...
            Statement::RenameTable(renames) => {
                for rename in renames {
                    let operation = AlterTableOperation::RenameTable {
                        table_name: RenameTableNameKind::To(rename.new_name.clone()),
                    };
                    self.record_alter(line, &rename.old_name, &operation);
                }
            }
            Statement::Set(Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            }) if variable.to_string().eq_ignore_ascii_case("lock_timeout") => {
                let set = !values.iter().all(turns_timeout_off);
                self.set_lock_timeout(*scope == Some(ContextModifier::Local), set);
            }
            Statement::Reset(reset) => match &reset.reset {
                Reset::ALL => self.set_lock_timeout(false, false),
                Reset::ConfigurationParameter(name)
                    if name.to_string().eq_ignore_ascii_case("lock_timeout") =>
                {
                    self.set_lock_timeout(false, false);
                }
                _ => {}
            },
            // A no-transaction file may open transactions of its own, in which `SET LOCAL`
            // works until they end.
            Statement::StartTransaction { .. } if !self.transactional => {
                self.in_explicit_transaction = true;
            }
            Statement::Commit { .. }
            | Statement::Rollback {
                savepoint: None, ..
            } if !self.transactional => {
                self.in_explicit_transaction = false;
                self.local_lock_timeout = None;
            }
            _ => {}
        }
    }

    /// Whether a non-zero `lock_timeout` is in force.
    pub fn lock_timeout(&self) -> bool {
        self.local_lock_timeout.unwrap_or(self.session_lock_timeout)
    }

    /// Record a `lock_timeout` setting: `local` for one that lasts until the end of the
    /// transaction, which outside one does nothing at all; `set` when it is non-zero.
    fn set_lock_timeout(&mut self, local: bool, set: bool) {
        if !local {
            self.session_lock_timeout = set;
            self.local_lock_timeout = None;
        } else if self.transactional || self.in_explicit_transaction {
            self.local_lock_timeout = Some(set);
        }
    }

    fn record_create_table(&mut self, create: &CreateTable) {
        let table = self.table(&create.name);
        for column in &create.columns {
            self.column_types.insert(
                (table.clone(), self.ident(&column.name)),
                column.data_type.clone(),
            );
        }
        self.new_tables.insert(table);
    }

    fn record_alter(&mut self, line: usize, name: &ObjectName, operation: &AlterTableOperation) {
        let table = self.table(name);
        match operation {
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
                let new = self.table(new);
                if self.new_tables.contains(&table) {
                    self.new_tables.insert(new.clone());
                }
                if let Some(keys) = self.keys_now.remove(&table) {
                    for index in keys.iter().filter_map(|key| key.index.clone()) {
                        self.index_tables.insert(index, new.clone());
                    }
                    self.keys_now.insert(new, keys);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let (from, to) = (self.ident(old_column_name), self.ident(new_column_name));
                if let Some(data_type) = self.column_types.remove(&(table.clone(), from.clone())) {
                    self.column_types
                        .insert((table.clone(), to.clone()), data_type);
                }
                for key in self.keys_now.get_mut(&table).into_iter().flatten() {
                    for column in key.columns.iter_mut().flatten() {
                        if *column == from {
                            column.clone_from(&to);
                        }
                    }
                }
                let changes = self.live_column_changes.entry(table).or_default();
                changes.push((from, Some(to)));
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for column in column_names {
                    let column = self.ident(column);
                    self.column_types.remove(&(table.clone(), column.clone()));
                    let changes = self.live_column_changes.entry(table.clone()).or_default();
                    changes.push((column, None));
                }
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.column_types.insert(
                    (table, self.ident(&column_def.name)),
                    column_def.data_type.clone(),
                );
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } => {
                self.column_types
                    .insert((table, self.ident(column_name)), data_type.clone());
            }
            // MySQL's forms, which give the column's whole definition again.
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                ..
            } => {
                self.column_types
                    .insert((table, self.ident(col_name)), data_type.clone());
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                ..
            } => {
                if self.ident(old_name) != self.ident(new_name) {
                    let rename = AlterTableOperation::RenameColumn {
                        old_column_name: old_name.clone(),
                        new_column_name: new_name.clone(),
                    };
                    self.record_alter(line, name, &rename);
                }
                self.column_types
                    .insert((table, self.ident(new_name)), data_type.clone());
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => {
                let (constraint_name, not_null_column) = match constraint {
                    TableConstraint::Check(check) => (
                        check.name.as_ref(),
                        is_not_null_check(&check.expr).map(|c| self.ident(c)),
                    ),
                    TableConstraint::ForeignKey(fk) => (fk.name.as_ref(), None),
                    _ => return,
                };
                match (not_valid, constraint_name) {
                    (true, Some(constraint_name)) => {
                        self.not_valid.insert(
                            (table, self.ident(constraint_name)),
                            NotValid {
                                line,
                                not_null_column,
                            },
                        );
                    }
                    (false, _) => {
                        if let Some(column) = not_null_column {
                            self.validated_not_null.insert((table, column));
                        }
                    }
                    (true, None) => {}
                }
            }
            AlterTableOperation::ValidateConstraint { name } => {
                if let Some(column) = self
                    .not_valid
                    .get(&(table.clone(), self.ident(name)))
                    .and_then(|pending| pending.not_null_column.clone())
                {
                    self.validated_not_null.insert((table, column));
                }
            }
            _ => {}
        }
    }
}

/// `INSERT INTO target ... SELECT ... FROM source` that copies every row of `source`: one
/// plain table, and nothing that could leave a row out (`WHERE`, `GROUP BY`, `HAVING`,
/// `DISTINCT`, a limit, a join, `ON CONFLICT`, SQLite's `OR IGNORE`, `OR REPLACE` or
/// `REPLACE INTO`). Returns (target, source).
fn full_copy(insert: &Insert) -> Option<(&ObjectName, &ObjectName, &[SelectItem])> {
    let TableObject::TableName(target) = &insert.table else {
        return None;
    };
    // ABORT (SQLite's default), FAIL and ROLLBACK stop the copy at a conflict rather than
    // leave a row out, as a plain INSERT does.
    let skips_rows = matches!(
        insert.or,
        Some(SqliteOnConflict::Ignore | SqliteOnConflict::Replace)
    );
    if skips_rows || insert.on.is_some() || insert.ignore || insert.replace_into {
        return None;
    }
    let (source, projection) = copied_table(insert.source.as_deref()?)?;
    Some((target, source, projection))
}

/// The table whose every row `query` selects, and the select list.
fn copied_table(query: &Query) -> Option<(&ObjectName, &[SelectItem])> {
    if query.with.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let select = match query.body.as_ref() {
        SetExpr::Select(select) => select,
        SetExpr::Query(inner) => return copied_table(inner),
        _ => return None,
    };
    let no_grouping =
        matches!(&select.group_by, GroupByExpr::Expressions(list, _) if list.is_empty());
    if select.distinct.is_some()
        || select.top.is_some()
        || select.selection.is_some()
        || select.having.is_some()
        || select.qualify.is_some()
        || !no_grouping
    {
        return None;
    }
    match select.from.as_slice() {
        [from] if from.joins.is_empty() => match &from.relation {
            TableFactor::Table {
                name, args: None, ..
            } => Some((name, select.projection.as_slice())),
            _ => None,
        },
        _ => None,
    }
}

/// The name of a `SELECT ... INTO` target: `t` or `schema.t`.
fn expr_name(target: &Expr) -> Option<ObjectName> {
    match target {
        Expr::Identifier(ident) => Some(ObjectName::from(vec![ident.clone()])),
        Expr::CompoundIdentifier(idents) => Some(ObjectName::from(idents.clone())),
        _ => None,
    }
}

/// A column declared `PRIMARY KEY` or `UNIQUE`, which gives it an index of its own.
fn is_key_column(column: &ColumnDef) -> bool {
    column.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_)
        )
    })
}

/// The column of an index key or check operand that is a bare column reference.
fn plain_column(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Identifier(ident) => Some(ident),
        Expr::Nested(inner) => plain_column(inner),
        _ => None,
    }
}

/// `column IS NOT NULL`, possibly parenthesised.
fn is_not_null_check(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::IsNotNull(operand) => plain_column(operand),
        Expr::Nested(inner) => is_not_null_check(inner),
        _ => None,
    }
}

/// A `SET` value that turns the timeout off: `0`, `'0'`, `'0s'`, `'0ms'`, and `DEFAULT`
/// (the server's default, which is off unless an administrator changed it).
fn turns_timeout_off(value: &Expr) -> bool {
    match value {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("default"),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => is_zero(n),
            Value::SingleQuotedString(s) => is_zero(s),
            _ => false,
        },
        _ => false,
    }
}

/// A duration that is zero: `0`, `0s`, `0ms`.
fn is_zero(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty() && digits.chars().all(|c| c == '0')
}

/// `SELECT set_config('lock_timeout', 'value', is_local)`: whether it is local, and whether
/// the value is non-zero.
fn set_config_lock_timeout(query: &Query) -> Option<(bool, bool)> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    select.projection.iter().find_map(|item| {
        let (SelectItem::UnnamedExpr(Expr::Function(call))
        | SelectItem::ExprWithAlias {
            expr: Expr::Function(call),
            ..
        }) = item
        else {
            return None;
        };
        if !call.name.to_string().eq_ignore_ascii_case("set_config") {
            return None;
        }
        let FunctionArguments::List(list) = &call.args else {
            return None;
        };
        let args: Vec<&Expr> = list
            .args
            .iter()
            .filter_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
                _ => None,
            })
            .collect();
        let [Expr::Value(name), value, Expr::Value(local)] = args.as_slice() else {
            return None;
        };
        let Value::SingleQuotedString(name) = &name.value else {
            return None;
        };
        if !name.eq_ignore_ascii_case("lock_timeout") {
            return None;
        }
        let local = matches!(local.value, Value::Boolean(true));
        Some((local, !turns_timeout_off(value)))
    })
}

/// The tables a statement renames, as (old name, new name): `ALTER TABLE ... RENAME TO`, and
/// MySQL's `RENAME TABLE`.
fn table_renames(statement: &Statement) -> Vec<(&ObjectName, &ObjectName)> {
    match statement {
        Statement::AlterTable(alter) => alter
            .operations
            .iter()
            .filter_map(|operation| match operation {
                AlterTableOperation::RenameTable {
                    table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
                } => Some((&alter.name, to)),
                _ => None,
            })
            .collect(),
        Statement::RenameTable(renames) => renames
            .iter()
            .map(|rename| (&rename.old_name, &rename.new_name))
            .collect(),
        _ => Vec::new(),
    }
}

/// The table an `INSERT`, `UPDATE` or `DELETE` writes, when it is a plain table.
pub fn row_target(statement: &Statement) -> Option<&ObjectName> {
    fn relation(table: &TableWithJoins) -> Option<&ObjectName> {
        match &table.relation {
            TableFactor::Table { name, .. } => Some(name),
            _ => None,
        }
    }
    match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => Some(name),
            _ => None,
        },
        Statement::Update(update) => relation(&update.table),
        Statement::Delete(delete) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            from.first().and_then(relation)
        }
        _ => None,
    }
}
