//! A plugin's configuration: the `config` table from the host configuration.

use std::fmt;
use std::str::FromStr;

/// The key/value strings the host passes to [`crate::Plugin::init`]. Read them once in
/// `init`, turn them into typed fields and refuse bad values there: an `init` error stops
/// the plugin from loading and is shown to the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// Builds a config from pairs, as the host does; handy in tests.
    pub fn new<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Config {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `key`, if set (the last one if the host repeated it).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or an error message naming the missing key.
    pub fn require(&self, key: &str) -> Result<&str, String> {
        self.get(key)
            .ok_or_else(|| format!("missing config key `{key}`"))
    }

    /// Parses the value of `key` with `FromStr`; `Ok(None)` if the key is not set.
    pub fn parse<T>(&self, key: &str) -> Result<Option<T>, String>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(key)
            .map(|value| {
                value
                    .parse::<T>()
                    .map_err(|e| format!("config key `{key}` = {value:?}: {e}"))
            })
            .transpose()
    }

    /// Refuses keys outside `known`, so a typo is reported instead of silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((key, _)) => Err(format!(
                "unknown config key `{key}`; this plugin accepts: {}",
                known.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// All entries, in the order the host gave them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl From<Vec<(String, String)>> for Config {
    fn from(entries: Vec<(String, String)>) -> Self {
        Config { entries }
    }
}
