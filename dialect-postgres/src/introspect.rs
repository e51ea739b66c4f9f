//! Reading a database's schema into godwit's model.
//!
//! One query per kind of object, whatever the number of tables, so introspection costs the
//! same dozen round trips on a schema of five tables or five thousand. Every text comes from
//! the server's own deparsers (`format_type`, `pg_get_expr`, `pg_get_*def`), so two databases
//! holding the same schema give equal models, whatever their OIDs and names. Those deparsers
//! follow the session's `search_path`, which is why both sides of a diff are read with the
//! same connection options.
//!
//! Results are cast to `text` and `bigint` in SQL (booleans as `int`, lists as JSON text),
//! because the store reads only those types.

use std::collections::HashMap;

use godwit_core::Value;
use godwit_core::dialect::RenderError;
use godwit_core::schema::{
    Check, Column, Comment, CommentTarget, Deferral, Domain, Enum, Extension, FkAction, ForeignKey,
    Function, Generated, Identity, Index, Name, PrimaryKey, Schema, Sequence, Table, Trigger,
    Unique, Unmanaged, View,
};
use godwit_core::store::Row;

use crate::render::{PARTITION_BY, PARTITION_OF};
use crate::sequence::SequenceOptions;

mod access;

/// Schemas that hold the system, never the user's objects.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// godwit's own bookkeeping tables (history, layout version, SQLite's lock row). The configured
/// history table, whatever its name, is filtered again by core.
const GODWIT_TABLES: &str =
    "('godwit_migrations', 'godwit_migrations_meta', 'godwit_migrations_lock')";

/// The marker that an object was created by an extension's script and is managed by it.
fn not_from_extension(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS x \
         WHERE x.classid = 'pg_catalog.{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"
    )
}

/// The tables godwit manages, as a filter on `c` (`pg_class`) and `n` (its namespace).
fn managed_table() -> String {
    format!(
        "c.relkind IN ('r', 'p') AND {USER_SCHEMA} AND c.relname NOT IN {GODWIT_TABLES} AND {}",
        not_from_extension("pg_class", "c.oid")
    )
}

/// The tables and materialized views whose indexes godwit manages, as a filter on `c`
/// (`pg_class`) and `n` (its namespace). A materialized view is never one of godwit's tables.
fn indexed_relation() -> String {
    format!(
        "(c.relkind IN ('r', 'p') AND c.relname NOT IN {GODWIT_TABLES} OR c.relkind = 'm') \
         AND {USER_SCHEMA} AND {}",
        not_from_extension("pg_class", "c.oid")
    )
}

/// JSON array text of the names of `attnums` (an `int2[]`) of relation `rel`, in key order.
fn column_names(attnums: &str, rel: &str) -> String {
    format!(
        "(SELECT json_agg(a.attname::text ORDER BY key.ord) \
         FROM unnest({attnums}) WITH ORDINALITY AS key(num, ord) \
         JOIN pg_catalog.pg_attribute AS a ON a.attrelid = {rel} AND a.attnum = key.num)::text"
    )
}

/// The condition that `depend`, a `pg_depend` row, makes the sequence `sequence` owned by
/// a column (`OWNED BY`, as `serial` does) whose default `attrdef` is a plain call of
/// `nextval` on it, and that `attribute`, the column, is what `serial` makes: a NOT NULL
/// integer. Ownership alone is not enough: a column may own a sequence another column draws
/// from. A nullable column keeps its sequence in the model by itself, as `serial` cannot
/// create it again. The default is compared as the server prints it, which names the
/// sequence as `regclass` output does, qualified only when it is not on the search path.
fn owned_and_called(depend: &str, sequence: &str, attrdef: &str, attribute: &str) -> String {
    format!(
        "{depend}.classid = 'pg_catalog.pg_class'::regclass AND {depend}.objid = {sequence} \
         AND {depend}.refclassid = 'pg_catalog.pg_class'::regclass AND {depend}.deptype = 'a' \
         AND {attribute}.attnotnull \
         AND {attribute}.atttypid IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype, \
             'pg_catalog.int8'::regtype) \
         AND pg_catalog.pg_get_expr({attrdef}.adbin, {attrdef}.adrelid) \
             = format('nextval(%L::regclass)', {sequence}::regclass::text)"
    )
}

/// The queries, in the order [`schema_from_catalog`] reads their results: those of the
/// objects, then those of who may use them ([`access`]).
pub(crate) fn queries() -> Vec<String> {
    let mut queries = object_queries();
    queries.extend(access::queries());
    queries
}

/// How many of [`queries`] read objects; the rest read row-level security and privileges.
const OBJECT_QUERIES: usize = 14;

fn object_queries() -> Vec<String> {
    let table = managed_table();
    let indexed = indexed_relation();
    vec![
        // 0: schemas besides `public`, which every database has.
        format!(
            "SELECT n.nspname::text FROM pg_catalog.pg_namespace AS n \
             WHERE {USER_SCHEMA} AND n.nspname <> 'public' AND {} ORDER BY 1",
            not_from_extension("pg_namespace", "n.oid")
        ),
        // 1: extensions; plpgsql is in every database from the start, so it is not managed.
        "SELECT e.extname::text, n.nspname::text FROM pg_catalog.pg_extension AS e \
         JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace \
         WHERE e.extname <> 'plpgsql' ORDER BY 1"
            .to_string(),
        // 2: enums and their labels in sort order.
        format!(
            "SELECT n.nspname::text, t.typname::text, \
             (SELECT json_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
              FROM pg_catalog.pg_enum AS e WHERE e.enumtypid = t.oid)::text \
             FROM pg_catalog.pg_type AS t JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace \
             WHERE t.typtype = 'e' AND {USER_SCHEMA} AND {} ORDER BY 1, 2",
            not_from_extension("pg_type", "t.oid")
        ),
        // 3: domains and their checks.
        format!(
            "SELECT n.nspname::text, t.typname::text, \
             pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull::int, \
             pg_catalog.pg_get_expr(t.typdefaultbin, 0), \
             (SELECT json_agg(json_build_array(k.conname::text, pg_catalog.pg_get_constraintdef(k.oid)) \
                              ORDER BY k.conname) \
              FROM pg_catalog.pg_constraint AS k WHERE k.contypid = t.oid AND k.contype = 'c')::text \
             FROM pg_catalog.pg_type AS t JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace \
             WHERE t.typtype = 'd' AND {USER_SCHEMA} AND {} ORDER BY 1, 2",
            not_from_extension("pg_type", "t.oid")
        ),
        // 4: sequences, except identity sequences and those a column owns and draws its
        // default from (what `serial` leaves behind, whatever the name): both are the column's
        // and come back with it.
        format!(
            "SELECT n.nspname::text, c.relname::text, pg_catalog.format_type(s.seqtypid, NULL), \
             s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle::int \
             FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = c.oid \
             WHERE c.relkind = 'S' AND {USER_SCHEMA} AND {} \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d \
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid \
                 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'i') \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d \
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
                 WHERE {}) \
             ORDER BY 1, 2",
            not_from_extension("pg_class", "c.oid"),
            owned_and_called("d", "c.oid", "ad", "a")
        ),
        // 5: functions and procedures.
        format!(
            "SELECT n.nspname::text, p.proname::text, \
             pg_catalog.pg_get_function_identity_arguments(p.oid), pg_catalog.pg_get_functiondef(p.oid), \
             pg_catalog.pg_get_function_result(p.oid) \
             FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace \
             WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {} ORDER BY 1, 2, 3",
            not_from_extension("pg_proc", "p.oid")
        ),
        // 6: tables, with partitioning and comments; then persistence, and the tables a table
        // inherits from (not a partition's parent), in order.
        format!(
            "SELECT n.nspname::text, c.relname::text, \
             pg_catalog.obj_description(c.oid, 'pg_class'), \
             CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END, \
             pn.nspname::text, pc.relname::text, \
             CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END, \
             (c.relpersistence = 'u')::int, \
             (SELECT json_agg(json_build_array(ion.nspname::text, io.relname::text) \
                              ORDER BY i.inhseqno) \
              FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS io ON io.oid = i.inhparent \
              JOIN pg_catalog.pg_namespace AS ion ON ion.oid = io.relnamespace \
              WHERE i.inhrelid = c.oid AND NOT c.relispartition)::text \
             FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_inherits AS h ON c.relispartition AND h.inhrelid = c.oid \
             LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = h.inhparent \
             LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace \
             WHERE {table} ORDER BY 1, 2"
        ),
        // 7: columns in physical order. A partition's inherited columns belong to its parent.
        format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, \
             pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull::int, \
             CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END, \
             CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END, \
             a.attgenerated::text, a.attidentity::text, \
             pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, \
             s.seqcache, s.seqcycle::int, \
             CASE WHEN a.attcollation <> t.typcollation THEN \
                 CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) \
                 ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END END, \
             pg_catalog.col_description(a.attrelid, a.attnum), \
             (a.attinhcount > 0 AND NOT a.attislocal)::int, \
             (SELECT o.relname::text FROM pg_catalog.pg_depend AS d \
              JOIN pg_catalog.pg_class AS o ON o.oid = d.objid \
              WHERE d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND {}) \
             FROM pg_catalog.pg_attribute AS a \
             JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             LEFT JOIN pg_catalog.pg_collation AS co ON co.oid = a.attcollation \
             LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace \
             LEFT JOIN LATERAL (SELECT q.* FROM pg_catalog.pg_depend AS d \
                 JOIN pg_catalog.pg_sequence AS q ON q.seqrelid = d.objid \
                 WHERE a.attidentity <> '' AND d.classid = 'pg_catalog.pg_class'::regclass \
                 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = a.attrelid \
                 AND d.refobjsubid = a.attnum AND d.deptype = 'i') AS s ON true \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND {table} \
             AND NOT (c.relispartition AND a.attinhcount > 0) \
             ORDER BY 1, 2, a.attnum",
            owned_and_called("d", "o.oid", "ad", "a")
        ),
        // 8: constraints. Those cloned onto partitions from their parent (`conparentid`) or
        // inherited (`coninhcount`) belong to the parent, even when the table has a copy of
        // its own, as a table that joined a parent with `INHERIT` must have.
        format!(
            "SELECT n.nspname::text, c.relname::text, k.conname::text, k.contype::text, \
             pg_catalog.pg_get_constraintdef(k.oid), {}, rn.nspname::text, rc.relname::text, {}, \
             k.confdeltype::text, k.confupdtype::text, k.condeferrable::int, k.condeferred::int, \
             (SELECT to_jsonb(i) ->> 'indnullsnotdistinct' FROM pg_catalog.pg_index AS i \
              WHERE k.contype = 'u' AND i.indexrelid = k.conindid), \
             k.confmatchtype::text \
             FROM pg_catalog.pg_constraint AS k \
             JOIN pg_catalog.pg_class AS c ON c.oid = k.conrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = k.confrelid \
             LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace \
             WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conparentid = 0 \
             AND k.conislocal AND k.coninhcount = 0 \
             AND {table} ORDER BY 1, 2, 3",
            column_names("k.conkey", "k.conrelid"),
            column_names("k.confkey", "k.confrelid")
        ),
        // 9: indexes of tables and materialized views that do not implement a constraint, and
        // are not a partition's copy of its parent's index. An INVALID index (left by a failed
        // or running concurrent build) is left out: it is not there for queries, so the schema
        // does not have it yet, and a change that builds it again fails on its name instead of
        // finding nothing to do.
        format!(
            "SELECT n.nspname::text, ic.relname::text, c.relname::text, i.indisunique::int, \
             pg_catalog.pg_get_indexdef(i.indexrelid), \
             (SELECT json_agg(pg_catalog.pg_get_indexdef(i.indexrelid, g.k, true) ORDER BY g.k) \
              FROM generate_series(1, i.indnkeyatts) AS g(k))::text, \
             to_json(i.indoption::int2[])::text, \
             pg_catalog.pg_get_expr(i.indpred, i.indrelid), am.amname::text, \
             (c.relkind = 'm')::int \
             FROM pg_catalog.pg_index AS i \
             JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid \
             JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam \
             JOIN pg_catalog.pg_class AS c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE {indexed} AND i.indisvalid \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k \
                 WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid \
                 AND k.contype IN ('p', 'u', 'x')) \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS h WHERE h.inhrelid = i.indexrelid) \
             ORDER BY 1, 2"
        ),
        // 10: views and materialized views, with the relations their query reads.
        format!(
            "SELECT n.nspname::text, c.relname::text, (c.relkind = 'm')::int, \
             pg_catalog.pg_get_viewdef(c.oid), array_to_string(c.reloptions, ', '), \
             (SELECT jsonb_agg(DISTINCT jsonb_build_array(dn.nspname::text, dc.relname::text)) \
              FROM pg_catalog.pg_rewrite AS r \
              JOIN pg_catalog.pg_depend AS d ON d.classid = 'pg_catalog.pg_rewrite'::regclass \
                  AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass \
              JOIN pg_catalog.pg_class AS dc ON dc.oid = d.refobjid \
              JOIN pg_catalog.pg_namespace AS dn ON dn.oid = dc.relnamespace \
              WHERE r.ev_class = c.oid AND d.refobjid <> c.oid)::text \
             FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMA} AND {} ORDER BY 1, 2",
            not_from_extension("pg_class", "c.oid")
        ),
        // 11: triggers written by the user: not the internal ones behind foreign keys, and not
        // a partition's clone of its parent's trigger (`tgparentid`, read through JSON because
        // the column is new in PostgreSQL 13).
        format!(
            "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid) \
             FROM pg_catalog.pg_trigger AS t \
             JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND COALESCE((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0 \
             AND {USER_SCHEMA} AND c.relname NOT IN {GODWIT_TABLES} AND {} ORDER BY 1, 2, 3",
            not_from_extension("pg_class", "c.oid")
        ),
        // 12: comments on everything but tables and columns (those come with their table):
        // kind, schema, name, the table or argument list that completes the name, and text.
        format!(
            "SELECT 'index', n.nspname::text, ic.relname::text, NULL::text, d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_class AS ic ON d.classoid = 'pg_catalog.pg_class'::regclass \
                 AND d.objoid = ic.oid AND d.objsubid = 0 \
             JOIN pg_catalog.pg_index AS i ON i.indexrelid = ic.oid \
             JOIN pg_catalog.pg_class AS c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE {indexed} \
             UNION ALL \
             SELECT 'constraint', n.nspname::text, c.relname::text, k.conname::text, d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_constraint AS k ON d.classoid = 'pg_catalog.pg_constraint'::regclass \
                 AND d.objoid = k.oid \
             JOIN pg_catalog.pg_class AS c ON c.oid = k.conrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE {table} \
             UNION ALL \
             SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
                 ELSE 'sequence' END, n.nspname::text, c.relname::text, NULL, d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_class AS c ON d.classoid = 'pg_catalog.pg_class'::regclass \
                 AND d.objoid = c.oid AND d.objsubid = 0 \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('v', 'm', 'S') AND {USER_SCHEMA} AND {class} \
             UNION ALL \
             SELECT 'trigger', n.nspname::text, c.relname::text, t.tgname::text, d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_trigger AS t ON d.classoid = 'pg_catalog.pg_trigger'::regclass \
                 AND d.objoid = t.oid \
             JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND {USER_SCHEMA} AND c.relname NOT IN {GODWIT_TABLES} \
             AND {class} \
             UNION ALL \
             SELECT 'routine', n.nspname::text, p.proname::text, \
                 pg_catalog.pg_get_function_identity_arguments(p.oid), d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_proc AS p ON d.classoid = 'pg_catalog.pg_proc'::regclass \
                 AND d.objoid = p.oid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace \
             WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {routine} \
             UNION ALL \
             SELECT CASE t.typtype WHEN 'e' THEN 'type' ELSE 'domain' END, n.nspname::text, \
                 t.typname::text, NULL, d.description \
             FROM pg_catalog.pg_description AS d \
             JOIN pg_catalog.pg_type AS t ON d.classoid = 'pg_catalog.pg_type'::regclass \
                 AND d.objoid = t.oid \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace \
             WHERE t.typtype IN ('e', 'd') AND {USER_SCHEMA} AND {type_} \
             ORDER BY 1, 2, 3, 4",
            class = not_from_extension("pg_class", "c.oid"),
            routine = not_from_extension("pg_proc", "p.oid"),
            type_ = not_from_extension("pg_type", "t.oid"),
        ),
        // 13: what the model does not carry: rules other than those of views, and extended
        // statistics.
        format!(
            "SELECT 'rule', format('%I on %I.%I', r.rulename, n.nspname, c.relname) \
             FROM pg_catalog.pg_rewrite AS r JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE r.rulename <> '_RETURN' AND {USER_SCHEMA} AND {class} \
             UNION ALL \
             SELECT 'extended statistics', format('%I.%I', n.nspname, s.stxname) \
             FROM pg_catalog.pg_statistic_ext AS s \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = s.stxnamespace WHERE {USER_SCHEMA} \
             ORDER BY 1, 2",
            class = not_from_extension("pg_class", "c.oid"),
        ),
    ]
}

/// How [`Function::signature`] spells a routine: `schema.name(argument types)`.
fn function_signature(name: &Name, arguments: &str) -> String {
    format!(
        "{}.{}({arguments})",
        name.schema.as_deref().unwrap_or_default(),
        name.name
    )
}

/// Build the model from the results of [`queries`].
pub(crate) fn schema_from_catalog(mut results: Vec<Vec<Row>>) -> Result<Schema, RenderError> {
    let expected = queries().len();
    let count_error = |count: usize| {
        RenderError::Impossible(format!(
            "expected the results of {expected} catalog queries, got {count}"
        ))
    };
    if results.len() != expected {
        return Err(count_error(results.len()));
    }
    let access: [Vec<Row>; 3] = results
        .split_off(OBJECT_QUERIES)
        .try_into()
        .map_err(|_| count_error(expected))?;
    let [
        schemas,
        extensions,
        enums,
        domains,
        sequences,
        functions,
        tables,
        columns,
        constraints,
        indexes,
        views,
        triggers,
        comments,
        unmanaged,
    ]: [Vec<Row>; OBJECT_QUERIES] = results
        .try_into()
        .map_err(|results: Vec<Vec<Row>>| count_error(results.len()))?;

    let mut schema = Schema::default();
    for row in &schemas {
        schema.schemas.push(Reader::new(row, "schemas").text(0)?);
    }
    for row in &extensions {
        let r = Reader::new(row, "extensions");
        schema.extensions.push(Extension {
            name: r.text(0)?,
            schema: r.opt_text(1)?,
        });
    }
    for row in &enums {
        let r = Reader::new(row, "enums");
        schema.enums.push(Enum {
            name: r.name(0, 1)?,
            values: r.json_list(2)?,
        });
    }
    for row in &domains {
        let r = Reader::new(row, "domains");
        let checks: Vec<(String, String)> = r.json(5)?.unwrap_or_default();
        schema.domains.push(Domain {
            name: r.name(0, 1)?,
            data_type: r.text(2)?,
            nullable: !r.flag(3)?,
            default: r.opt_text(4)?,
            checks: checks
                .into_iter()
                .map(|(name, expression)| Check {
                    name: Some(name),
                    expression,
                })
                .collect(),
        });
    }
    for row in &sequences {
        let r = Reader::new(row, "sequences");
        schema.sequences.push(Sequence {
            name: r.name(0, 1)?,
            definition: r.sequence_options(2)?.definition(),
        });
    }
    for row in &functions {
        let r = Reader::new(row, "functions");
        let name = r.name(0, 1)?;
        schema.functions.push(Function {
            signature: function_signature(&name, &r.text(2)?),
            name,
            definition: r.text(3)?,
            returns: r.opt_text(4)?,
        });
    }
    for row in &tables {
        let r = Reader::new(row, "tables");
        let mut table = Table::new(r.name(0, 1)?, Vec::new());
        table.comment = r.opt_text(2)?;
        if let Some(key) = r.opt_text(3)? {
            table.other_constraints.push(Check {
                name: None,
                expression: format!("{PARTITION_BY}{key}"),
            });
        }
        if let (Some(schema), Some(parent), Some(bound)) =
            (r.opt_text(4)?, r.opt_text(5)?, r.opt_text(6)?)
        {
            table.other_constraints.push(Check {
                name: None,
                expression: format!(
                    "{PARTITION_OF}{} {bound}",
                    crate::render::qualified(&Name::qualified(schema, parent))
                ),
            });
        }
        table.unlogged = r.flag(7)?;
        let parents: Vec<(String, String)> = r.json(8)?.unwrap_or_default();
        table.inherits = parents
            .into_iter()
            .map(|(schema, name)| Name::qualified(schema, name))
            .collect();
        schema.tables.push(table);
    }
    // Tables by name, for the rows of their columns, constraints and indexes.
    let positions = positions_of(schema.tables.iter().map(|t| &t.name));
    for row in &columns {
        let r = Reader::new(row, "columns");
        let table = relation_mut(&mut schema.tables, &positions, r.name(0, 1)?, "table")?;
        let identity = match r.text(8)?.as_str() {
            "" => None,
            code => Some(Identity {
                always: code == "a",
                options: r.sequence_options(9)?.identity_options(),
            }),
        };
        let stored = r.text(7)? == "s";
        let mut column = Column::new(r.text(2)?, r.text(3)?);
        column.nullable = !r.flag(4)?;
        column.default = r.opt_text(5)?;
        column.generated = r
            .opt_text(6)?
            .map(|expression| Generated { expression, stored });
        column.identity = identity;
        column.collation = r.opt_text(16)?;
        column.comment = r.opt_text(17)?;
        column.inherited = r.flag(18)?;
        column.owned_sequence = r.opt_text(19)?;
        table.columns.push(column);
    }
    for row in &constraints {
        let r = Reader::new(row, "constraints");
        let table = relation_mut(&mut schema.tables, &positions, r.name(0, 1)?, "table")?;
        let name = r.text(2)?;
        let definition = r.text(4)?;
        let columns: Vec<String> = r.json_list(5)?;
        let deferral = Deferral {
            deferrable: r.flag(11)?,
            initially_deferred: r.flag(12)?,
        };
        match r.text(3)?.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: Some(name),
                    deferral,
                    ..PrimaryKey::new(columns)
                });
            }
            // The model's unique constraint has columns, NULLS NOT DISTINCT and deferral only;
            // one with more (INCLUDE, storage options) is kept whole, by its definition.
            "u" if !definition.contains(" INCLUDE (")
                && !definition.contains(" WITH (")
                && !definition.contains(" USING INDEX TABLESPACE ") =>
            {
                table.uniques.push(Unique {
                    name: Some(name),
                    columns,
                    nulls_not_distinct: r.opt_text(13)?.as_deref() == Some("true"),
                    // SQLite's constraint-level ON CONFLICT; PostgreSQL constraints have none.
                    on_conflict: None,
                    deferral,
                });
            }
            "f" => table.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                references: r.name(6, 7)?,
                referenced_columns: r.json_list(8)?,
                on_delete: fk_action(&r.text(9)?)?,
                on_update: fk_action(&r.text(10)?)?,
                deferrable: r.flag(11)?,
                initially_deferred: r.flag(12)?,
                match_full: r.text(14)? == "f",
            }),
            "c" => table.checks.push(Check {
                name: Some(name),
                expression: definition,
            }),
            _ => table.other_constraints.push(Check {
                name: Some(name),
                expression: definition,
            }),
        }
    }
    for row in &views {
        let r = Reader::new(row, "views");
        let name = r.name(0, 1)?;
        let materialized = r.flag(2)?;
        let query = r.text(3)?.trim().trim_end_matches(';').to_string();
        let options = r
            .opt_text(4)?
            .filter(|o| !o.is_empty())
            .map(|o| format!(" WITH ({o})"))
            .unwrap_or_default();
        let dependencies: Vec<(String, String)> = r.json(5)?.unwrap_or_default();
        let mut depends_on: Vec<Name> = dependencies
            .into_iter()
            .map(|(schema, name)| Name::qualified(schema, name))
            .collect();
        depends_on.sort();
        schema.views.push(View {
            definition: format!(
                "CREATE {}VIEW {}{options} AS\n{query}",
                if materialized { "MATERIALIZED " } else { "" },
                crate::render::qualified(&name)
            ),
            name,
            materialized,
            query,
            depends_on,
            indexes: Vec::new(),
        });
    }
    let views_by_name = positions_of(schema.views.iter().map(|v| &v.name));
    for row in &indexes {
        let r = Reader::new(row, "indexes");
        let on = r.name(0, 2)?;
        let indexes = if r.flag(9)? {
            &mut relation_mut(&mut schema.views, &views_by_name, on, "materialized view")?.indexes
        } else {
            &mut relation_mut(&mut schema.tables, &positions, on, "table")?.indexes
        };
        let keys: Vec<String> = r.json_list(5)?;
        let options: Vec<i64> = r.json(6)?.unwrap_or_default();
        let method = r.text(8)?;
        indexes.push(Index {
            name: r.name(0, 1)?,
            unique: r.flag(3)?,
            keys: keys
                .into_iter()
                .enumerate()
                .map(|(i, key)| with_ordering(key, options.get(i).copied().unwrap_or(0)))
                .collect(),
            predicate: r.opt_text(7)?,
            method: (method != "btree").then_some(method),
            definition: r.text(4)?,
        });
    }
    for row in &triggers {
        let r = Reader::new(row, "triggers");
        schema.triggers.push(Trigger {
            table: r.name(0, 1)?,
            name: r.text(2)?,
            definition: r.text(3)?,
        });
    }
    for row in &comments {
        let r = Reader::new(row, "comments");
        let name = r.name(1, 2)?;
        let on = match r.text(0)?.as_str() {
            "index" => CommentTarget::Index { name },
            "constraint" => CommentTarget::Constraint {
                table: name,
                name: r.text(3)?,
            },
            "trigger" => CommentTarget::Trigger {
                table: name,
                name: r.text(3)?,
            },
            kind @ ("view" | "materialized view") => CommentTarget::View {
                name,
                materialized: kind != "view",
            },
            "sequence" => CommentTarget::Sequence { name },
            "routine" => CommentTarget::Routine {
                signature: function_signature(&name, &r.text(3)?),
                name,
            },
            "type" => CommentTarget::Type { name },
            "domain" => CommentTarget::Domain { name },
            other => return Err(r.error(0, &format!("an unknown object kind `{other}`"))),
        };
        schema.comments.push(Comment {
            on,
            text: r.text(4)?,
        });
    }
    for row in &unmanaged {
        let r = Reader::new(row, "unmanaged");
        schema.unmanaged.push(Unmanaged {
            kind: r.text(0)?,
            object: r.text(1)?,
        });
    }
    access::read(&mut schema, access)?;
    schema.normalize();
    Ok(schema)
}

/// Where each of `names` stands in its list.
fn positions_of<'a>(names: impl Iterator<Item = &'a Name>) -> HashMap<Name, usize> {
    names
        .cloned()
        .enumerate()
        .map(|(i, name)| (name, i))
        .collect()
}

/// The table or view called `name`, by the positions of their names.
fn relation_mut<'a, T>(
    relations: &'a mut [T],
    positions: &HashMap<Name, usize>,
    name: Name,
    kind: &str,
) -> Result<&'a mut T, RenderError> {
    positions
        .get(&name)
        .and_then(|&i| relations.get_mut(i))
        .ok_or_else(|| {
            RenderError::Impossible(format!(
                "the catalog changed while it was read: {kind} {name} appeared; run again"
            ))
        })
}

/// An index key with the ordering `indoption` gives it: bit 0 is DESC, bit 1 NULLS FIRST, and
/// each direction has its own default for where NULLs go.
fn with_ordering(key: String, option: i64) -> String {
    let desc = option & 1 != 0;
    let nulls_first = option & 2 != 0;
    match (desc, nulls_first) {
        (false, false) => key,
        (false, true) => format!("{key} NULLS FIRST"),
        (true, true) => format!("{key} DESC"),
        (true, false) => format!("{key} DESC NULLS LAST"),
    }
}

fn fk_action(code: &str) -> Result<FkAction, RenderError> {
    Ok(match code {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        other => {
            return Err(RenderError::Impossible(format!(
                "unknown foreign key action code `{other}` in pg_constraint"
            )));
        }
    })
}

/// Typed access to one catalog row, with errors that name the query and column.
struct Reader<'a> {
    row: &'a Row,
    query: &'static str,
}

impl<'a> Reader<'a> {
    fn new(row: &'a Row, query: &'static str) -> Self {
        Reader { row, query }
    }

    fn error(&self, index: usize, what: &str) -> RenderError {
        RenderError::Impossible(format!(
            "catalog query `{}` returned {what} in column {index}: {:?}",
            self.query,
            self.row.get(index)
        ))
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, RenderError> {
        match self.row.get(index) {
            Some(Value::Text(text)) => Ok(Some(text.clone())),
            Some(Value::Null) => Ok(None),
            _ => Err(self.error(index, "something other than text")),
        }
    }

    fn text(&self, index: usize) -> Result<String, RenderError> {
        self.opt_text(index)?
            .ok_or_else(|| self.error(index, "an unexpected NULL"))
    }

    fn int(&self, index: usize) -> Result<i64, RenderError> {
        match self.row.get(index) {
            Some(Value::Int(value)) => Ok(*value),
            _ => Err(self.error(index, "something other than an integer")),
        }
    }

    fn flag(&self, index: usize) -> Result<bool, RenderError> {
        Ok(self.int(index)? != 0)
    }

    fn name(&self, schema: usize, name: usize) -> Result<Name, RenderError> {
        Ok(Name::qualified(self.text(schema)?, self.text(name)?))
    }

    fn json<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<Option<T>, RenderError> {
        self.opt_text(index)?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|error| self.error(index, &format!("JSON it cannot read ({error})")))
    }

    fn json_list(&self, index: usize) -> Result<Vec<String>, RenderError> {
        Ok(self.json(index)?.unwrap_or_default())
    }

    /// `pg_sequence`'s fields from `first` on: type, start, increment, min, max, cache, cycle.
    fn sequence_options(&self, first: usize) -> Result<SequenceOptions, RenderError> {
        Ok(SequenceOptions {
            data_type: self.text(first)?,
            start: self.int(first + 1)?,
            increment: self.int(first + 2)?,
            min: self.int(first + 3)?,
            max: self.int(first + 4)?,
            cache: self.int(first + 5)?,
            cycle: self.flag(first + 6)?,
        })
    }
}
