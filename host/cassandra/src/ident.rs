//! CQL identifiers. Names from configuration are checked against the portable subset
//! Cassandra accepts for keyspaces and tables, then always emitted quoted, so a name is never
//! read as a keyword and its case is kept exactly as written.

use std::fmt;

/// Longest keyspace or table name Cassandra accepts.
const MAX_LEN: usize = 48;

/// A keyspace or table name that passed [`Ident::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Accepts `[A-Za-z0-9_]{1,48}`; the error says what is wrong.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("is empty".into());
        }
        if name.len() > MAX_LEN {
            return Err(format!(
                "is {} characters long; at most {MAX_LEN} are allowed",
                name.len()
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(format!(
                "contains {c:?}; only letters, digits and `_` are allowed"
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    /// The quoted form, ready to splice into CQL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&self.0))
    }
}

/// Quotes any identifier (for example a column name read from the cluster) for CQL.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_emitted_quoted() {
        assert_eq!(
            Ident::parse("users_v2").map(|i| i.to_string()),
            Ok("\"users_v2\"".into())
        );
        assert!(Ident::parse("").expect_err("must fail").contains("empty"));
        assert!(
            Ident::parse("a;drop")
                .expect_err("must fail")
                .contains("';'")
        );
        assert!(
            Ident::parse(&"x".repeat(49))
                .expect_err("must fail")
                .contains("at most 48")
        );
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }
}
