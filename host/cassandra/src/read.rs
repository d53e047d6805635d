//! Reading a target table back: how many rows it holds and a few of them as JSON, for
//! `weir demo`'s report and for anyone checking what a pipeline wrote.

use crate::config::Target;
use crate::error::CassandraError;
use scylla::client::session::Session;

/// The number of rows in the target table (`SELECT COUNT(*)`: a full scan, fine for a demo
/// or a test table, not for a production one).
pub async fn count_rows(session: &Session, target: &Target) -> Result<i64, CassandraError> {
    let statement = format!("SELECT COUNT(*) FROM {}.{}", target.keyspace, target.table);
    let (count,) = query(session, &statement)
        .await?
        .single_row::<(i64,)>()
        .map_err(|e| read_error(&statement, e))?;
    Ok(count)
}

/// Up to `limit` rows of the target table, each as the JSON object Cassandra renders
/// (`SELECT JSON *`), in token order.
pub async fn sample_rows(
    session: &Session,
    target: &Target,
    limit: u32,
) -> Result<Vec<String>, CassandraError> {
    let statement = format!(
        "SELECT JSON * FROM {}.{} LIMIT {limit}",
        target.keyspace, target.table
    );
    let rows = query(session, &statement).await?;
    let rows = rows
        .rows::<(String,)>()
        .map_err(|e| read_error(&statement, e))?
        .map(|row| row.map(|(json,)| json))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(&statement, e))?;
    Ok(rows)
}

async fn query(
    session: &Session,
    statement: &str,
) -> Result<scylla::response::query_result::QueryRowsResult, CassandraError> {
    session
        .query_unpaged(statement, &[])
        .await
        .map_err(|e| read_error(statement, e))?
        .into_rows_result()
        .map_err(|e| read_error(statement, e))
}

fn read_error(statement: &str, reason: impl std::fmt::Display) -> CassandraError {
    CassandraError::Read {
        statement: statement.to_owned(),
        reason: reason.to_string(),
    }
}
