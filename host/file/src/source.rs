//! Reads events from a JSONL file or standard input: one event per non-empty line.

use bytes::Bytes;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use weir_core::{Acker, BoxError, Event, Position, Source};

/// Settings of the file source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// File to read; `-` reads standard input.
    pub path: PathBuf,
    /// The timestamp given to every event: `now` (the time the run starts; the default) or an
    /// RFC 3339 instant such as `2026-01-01T00:00:00Z`, for reproducible output.
    #[serde(default)]
    pub timestamp: InputTimestamp,
}

/// Which timestamp file events carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InputTimestamp {
    /// The wall clock when the run starts.
    #[default]
    Now,
    /// A fixed instant, in milliseconds since the Unix epoch.
    Fixed(i64),
}

impl InputTimestamp {
    /// Parses `now` or an RFC 3339 instant.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("now") {
            return Ok(Self::Now);
        }
        let at = humantime::parse_rfc3339_weak(text).map_err(|e| {
            format!("`{text}` is not `now` or an RFC 3339 instant like 2026-01-01T00:00:00Z ({e})")
        })?;
        let ms = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| format!("`{text}` is before 1970"))?
            .as_millis();
        i64::try_from(ms)
            .map(Self::Fixed)
            .map_err(|_| format!("`{text}` is too far in the future"))
    }

    fn resolve(self) -> i64 {
        match self {
            Self::Fixed(ms) => ms,
            Self::Now => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        }
    }
}

impl<'de> Deserialize<'de> for InputTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A source over lines of a file or of standard input.
pub struct FileSource {
    reader: Box<dyn AsyncBufRead + Send + Unpin>,
    name: Arc<str>,
    line: i64,
    timestamp_ms: i64,
    done: bool,
}

impl FileSource {
    /// Opens the file (or stdin for `-`).
    pub async fn open(config: &FileSourceConfig) -> std::io::Result<Self> {
        let (reader, name): (Box<dyn AsyncBufRead + Send + Unpin>, Arc<str>) =
            if config.path.as_os_str() == "-" {
                (
                    Box::new(BufReader::new(tokio::io::stdin())),
                    Arc::from("stdin"),
                )
            } else {
                let file = tokio::fs::File::open(&config.path).await.map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot open input {}: {e}", config.path.display()),
                    )
                })?;
                let name = config.path.to_string_lossy().into_owned();
                (
                    Box::new(BufReader::with_capacity(1 << 16, file)),
                    Arc::from(name),
                )
            };
        Ok(Self {
            reader,
            name,
            line: 0,
            timestamp_ms: config.timestamp.resolve(),
            done: false,
        })
    }
}

impl Source for FileSource {
    type Acker = FileAcker;

    fn acker(&self) -> FileAcker {
        FileAcker
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Event>>, BoxError> {
        if self.done {
            return Ok(None);
        }
        let mut batch = Vec::with_capacity(max.min(4096));
        let mut buf = Vec::new();
        while batch.len() < max {
            buf.clear();
            let n = self.reader.read_until(b'\n', &mut buf).await?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line += 1;
            let trimmed = buf.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            batch.push(Event {
                key: None,
                value: Bytes::copy_from_slice(trimmed),
                headers: Vec::new(),
                timestamp_ms: self.timestamp_ms,
                position: Position {
                    topic: Arc::clone(&self.name),
                    partition: 0,
                    offset: self.line,
                },
            });
        }
        if batch.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(batch))
    }
}

/// Files have nothing to commit.
pub struct FileAcker;

impl Acker for FileAcker {
    async fn ack(&mut self, _done: &[Position]) -> Result<(), BoxError> {
        Ok(())
    }

    async fn close(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}
