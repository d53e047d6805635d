//! How a plugin is configured: where it comes from, its own settings, its limits and what
//! it is granted beyond the default sandbox. Validated when the plugin is loaded.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One entry of the plugin chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// Name used in logs, metrics and dead-letter headers; defaults to the file stem.
    #[serde(default)]
    pub name: Option<String>,
    /// Path to a `.wasm` component, or `builtin:NAME` for a plugin shipped inside weir.
    pub path: String,
    /// The plugin's own settings, passed to its `init` as strings.
    #[serde(default, deserialize_with = "string_table")]
    pub config: BTreeMap<String, String>,
    /// Time and memory limits.
    #[serde(default)]
    pub limits: Limits,
    /// Access beyond the default sandbox (none by default).
    #[serde(default)]
    pub grants: Grants,
}

impl PluginSpec {
    /// The plugin's display name: `name`, or the file stem of `path`.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let path = self.path.strip_prefix("builtin:").unwrap_or(&self.path);
        std::path::Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_owned())
    }
}

/// Limits that keep one plugin from hurting the others or the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Time budget for one call into the plugin (one batch, or one event while isolating a
    /// fault), e.g. `"500ms"`. A plugin that runs longer is stopped and the event fails.
    #[serde(default = "Limits::default_timeout", with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Largest linear memory a plugin instance may grow to, e.g. `"64MiB"`.
    #[serde(default = "Limits::default_memory")]
    pub memory: ByteSize,
}

impl Limits {
    const fn default_timeout() -> Duration {
        Duration::from_secs(2)
    }

    const fn default_memory() -> ByteSize {
        ByteSize(64 * 1024 * 1024)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Self::default_timeout(),
            memory: Self::default_memory(),
        }
    }
}

/// What a plugin may reach beyond pure computation. Everything is denied unless granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Environment variables the plugin may read, by name (values taken from weir's own
    /// environment at load).
    #[serde(default)]
    pub env: Vec<String>,
    /// Host directories the plugin may read, mounted at the same path inside the sandbox.
    #[serde(default)]
    pub read_dirs: Vec<PathBuf>,
    /// Whether the plugin sees the real wall clock; otherwise time reads as the Unix epoch.
    /// Plugins should use the event timestamp instead, so replays are identical.
    #[serde(default)]
    pub clock: bool,
    /// Network addresses (`host:port`) the plugin may connect to over TCP or UDP.
    #[serde(default)]
    pub network: Vec<String>,
}

/// A size in bytes that reads `"64MiB"`, `"512KiB"`, `"1GiB"`, `"1000000"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses a size; the error says which forms are accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let number: u64 = number.parse().map_err(|_| {
            format!("`{text}` is not a size; write e.g. \"64MiB\", \"512KiB\" or \"1GiB\"")
        })?;
        let factor = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "K" | "KB" => 1 << 10,
            "MiB" | "M" | "MB" => 1 << 20,
            "GiB" | "G" | "GB" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown size unit `{other}` in `{text}`; use B, KiB, MiB or GiB"
                ));
            }
        };
        number
            .checked_mul(factor)
            .map(ByteSize)
            .ok_or_else(|| format!("`{text}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        if self.0.is_multiple_of(MIB) {
            write!(f, "{}MiB", self.0 / MIB)
        } else {
            write!(f, "{}B", self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => ByteSize::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

/// Accepts strings, numbers and booleans, so `config = { min_age = 18 }` works as the user
/// expects; the plugin always receives strings.
fn string_table<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i64),
        Float(f64),
        Bool(bool),
    }
    let raw = BTreeMap::<String, Scalar>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Scalar::Text(s) => s,
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (k, v)
        })
        .collect())
}

/// Durations as humantime strings (`"500ms"`, `"2s"`).
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. \"500ms\" or \"2s\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_binary_units_and_reject_unknown_ones() {
        assert_eq!(ByteSize::parse("64MiB"), Ok(ByteSize(64 << 20)));
        assert_eq!(ByteSize::parse("512 KiB"), Ok(ByteSize(512 << 10)));
        assert_eq!(ByteSize::parse("1000"), Ok(ByteSize(1000)));
        assert!(
            ByteSize::parse("12 parsecs")
                .unwrap_err()
                .contains("unknown size unit")
        );
        assert!(ByteSize::parse("lots").unwrap_err().contains("not a size"));
    }

    #[test]
    fn display_name_defaults_to_the_file_stem() {
        let spec = |path: &str| PluginSpec {
            name: None,
            path: path.into(),
            config: BTreeMap::new(),
            limits: Limits::default(),
            grants: Grants::default(),
        };
        assert_eq!(spec("plugins/enricher.wasm").display_name(), "enricher");
        assert_eq!(spec("builtin:enricher").display_name(), "enricher");
    }
}
