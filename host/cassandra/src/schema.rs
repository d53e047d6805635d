//! The target table: creating the default one, reading the real one from the cluster, and
//! checking it against what the pipeline will write (`weir validate`).

use crate::config::{CassandraSinkConfig, Target};
use crate::convert::cql_type_name;
use crate::error::{CassandraError, metadata_unreachable};
use crate::ident::quote;
use scylla::client::session::Session;
use scylla::cluster::metadata::{ColumnKind, ColumnType, NativeType};

/// The default enricher's output columns and their CQL types; `id` is the primary key.
pub const ENRICHER_COLUMNS: [(&str, &str); 16] = [
    ("id", "uuid"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("gender", "text"),
    ("address", "text"),
    ("post_code", "text"),
    ("email", "text"),
    ("username", "text"),
    ("dob", "timestamp"),
    ("registered_date", "timestamp"),
    ("phone", "text"),
    ("picture", "text"),
    ("full_name", "text"),
    ("email_domain", "text"),
    ("age", "int"),
    ("age_group", "text"),
];

/// One column of the target table as the cluster describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name, exactly as stored.
    pub name: String,
    /// Its CQL type.
    pub typ: ColumnType<'static>,
    /// Part of the primary key (partition or clustering): every row needs a value.
    pub key: bool,
}

/// The target table's columns, in a stable order (key columns first, then by name).
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// The keyspace name.
    pub keyspace: String,
    /// The table name.
    pub table: String,
    /// Every column.
    pub columns: Vec<Column>,
}

impl TableSchema {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// `CREATE KEYSPACE IF NOT EXISTS` and `CREATE TABLE IF NOT EXISTS` for the default enricher's
/// output, then waits until every node agrees on the schema. Safe to run again and from
/// several processes at once.
pub async fn create_schema(
    session: &Session,
    config: &CassandraSinkConfig,
    target: &Target,
) -> Result<(), CassandraError> {
    let keyspace = format!(
        "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {}",
        target.keyspace,
        config.replication_literal()
    );
    let columns: Vec<String> = ENRICHER_COLUMNS
        .iter()
        .map(|(name, typ)| {
            let key = if *name == "id" { " PRIMARY KEY" } else { "" };
            format!("{} {typ}{key}", quote(name))
        })
        .collect();
    let table = format!(
        "CREATE TABLE IF NOT EXISTS {}.{} ({})",
        target.keyspace,
        target.table,
        columns.join(", ")
    );
    for statement in [keyspace, table] {
        session
            .query_unpaged(statement.as_str(), &[])
            .await
            .map_err(|source| CassandraError::Schema {
                statement: statement.clone(),
                source: Box::new(source),
            })?;
    }
    session
        .await_schema_agreement()
        .await
        .map_err(|e| CassandraError::SchemaAgreement(e.to_string()))?;
    Ok(())
}

/// Reads the table's real columns from the cluster's schema metadata (refreshed first, so a
/// table created a moment ago is seen).
pub async fn read_table_schema(
    session: &Session,
    target: &Target,
) -> Result<TableSchema, CassandraError> {
    session
        .refresh_metadata()
        .await
        .map_err(|e| CassandraError::Metadata {
            reason: e.to_string(),
            unreachable: metadata_unreachable(&e),
        })?;
    let state = session.get_cluster_state();
    let (keyspace, table) = (target.keyspace.as_str(), target.table.as_str());
    let Some(ks) = state.get_keyspace(keyspace) else {
        return Err(CassandraError::NoKeyspace(keyspace.into()));
    };
    let Some(meta) = ks.tables.get(table) else {
        return Err(CassandraError::NoTable {
            keyspace: keyspace.into(),
            table: table.into(),
        });
    };
    let mut columns: Vec<Column> = meta
        .columns
        .iter()
        .map(|(name, col)| Column {
            name: name.clone(),
            typ: col.typ.clone(),
            key: matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering),
        })
        .collect();
    columns.sort_by(|a, b| b.key.cmp(&a.key).then_with(|| a.name.cmp(&b.name)));
    Ok(TableSchema {
        keyspace: keyspace.into(),
        table: table.into(),
        columns,
    })
}

/// The JSON shape a pipeline produces for one field, as far as `weir validate` knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A JSON string (text, UUIDs, ISO-8601 timestamps, decimals as text, …).
    String,
    /// A JSON integer.
    Integer,
    /// A JSON number with a fraction.
    Float,
    /// `true` / `false`.
    Bool,
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
}

/// A field the pipeline writes, with its JSON shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedField {
    /// Field name (= column name).
    pub name: String,
    /// Its JSON shape.
    pub kind: FieldKind,
}

/// The default enricher's output fields and their JSON shapes.
pub fn enricher_fields() -> Vec<ExpectedField> {
    ENRICHER_COLUMNS
        .iter()
        .map(|(name, _)| ExpectedField {
            name: (*name).into(),
            kind: if *name == "age" {
                FieldKind::Integer
            } else {
                FieldKind::String
            },
        })
        .collect()
}

/// A mismatch between the table and what will be written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// The column (or field) concerned.
    pub column: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Compares the table with the fields the pipeline writes: primary-key columns no field
/// fills, fields whose JSON shape can never convert to their column's type, and (with
/// `unknown_fields = "error"`) fields without a column.
pub fn check_fields(
    schema: &TableSchema,
    config: &CassandraSinkConfig,
    fields: &[ExpectedField],
) -> Vec<SchemaProblem> {
    let mut problems = Vec::new();
    let table = format!("{}.{}", schema.keyspace, schema.table);
    for column in schema.columns.iter().filter(|c| c.key) {
        if !fields.iter().any(|f| f.name == column.name) {
            problems.push(SchemaProblem {
                column: column.name.clone(),
                message: format!(
                    "primary-key column `{}` of {table} is not among the fields written ({}); every event would be rejected. Produce that field or point the sink at another table",
                    column.name,
                    fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    for field in fields {
        match schema.column(&field.name) {
            None if config.unknown_fields == crate::config::UnknownFields::Error => {
                problems.push(SchemaProblem {
                    column: field.name.clone(),
                    message: format!(
                        "field `{}` has no column in {table} and `unknown_fields = \"error\"` rejects such events; add the column or set unknown_fields = \"ignore\"",
                        field.name
                    ),
                })
            }
            None => {}
            Some(column) if !convertible(field.kind, &column.typ) => problems.push(SchemaProblem {
                column: column.name.clone(),
                message: format!(
                    "field `{}` is a JSON {:?} but column `{}` is {}; change the column type or the field",
                    field.name,
                    field.kind,
                    column.name,
                    cql_type_name(&column.typ)
                ),
            }),
            Some(_) => {}
        }
    }
    problems
}

/// Reads the table and runs [`check_fields`]: the sink half of `weir validate`.
pub async fn validate_against_table(
    session: &Session,
    config: &CassandraSinkConfig,
    fields: &[ExpectedField],
) -> Result<Vec<SchemaProblem>, CassandraError> {
    let target = config.validate("sink")?;
    let schema = read_table_schema(session, &target).await?;
    Ok(check_fields(&schema, config, fields))
}

/// Whether a value of this JSON shape can ever convert to this column type (strings are
/// parsed, so they may fit most native types; the value itself decides at write time).
fn convertible(kind: FieldKind, typ: &ColumnType<'_>) -> bool {
    use NativeType as N;
    match (kind, typ) {
        (FieldKind::Array, ColumnType::Collection { typ, .. }) => {
            !matches!(typ, scylla::cluster::metadata::CollectionType::Map(..))
        }
        (FieldKind::Object, ColumnType::Collection { typ, .. }) => {
            matches!(typ, scylla::cluster::metadata::CollectionType::Map(..))
        }
        (FieldKind::String, ColumnType::Native(n)) => {
            !matches!(n, N::Blob | N::Counter | N::Duration | N::Time)
        }
        (FieldKind::Integer, ColumnType::Native(n)) => matches!(
            n,
            N::TinyInt
                | N::SmallInt
                | N::Int
                | N::BigInt
                | N::Varint
                | N::Decimal
                | N::Double
                | N::Float
                | N::Timestamp
                | N::Text
                | N::Ascii
        ),
        (FieldKind::Float, ColumnType::Native(n)) => {
            matches!(n, N::Decimal | N::Double | N::Float | N::Text | N::Ascii)
        }
        (FieldKind::Bool, ColumnType::Native(n)) => matches!(n, N::Boolean | N::Text | N::Ascii),
        _ => false,
    }
}
