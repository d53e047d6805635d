//! Writes event values as lines (stdout or a file), and dead letters as JSON lines.

use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use weir_core::{BoxError, DeadLetter, DeadLetterSink, Event, Sink, WriteResults};

/// Writes each event's value as one line.
pub struct JsonlSink {
    out: BufWriter<Box<dyn AsyncWrite + Send + Unpin>>,
}

impl JsonlSink {
    /// A sink to standard output.
    pub fn stdout() -> Self {
        Self {
            out: BufWriter::new(Box::new(tokio::io::stdout())),
        }
    }

    /// A sink to a file, created or truncated.
    pub async fn create(path: &Path) -> std::io::Result<Self> {
        let file = create_file(path, false).await?;
        Ok(Self {
            out: BufWriter::new(Box::new(file)),
        })
    }
}

async fn create_file(path: &Path, append: bool) -> std::io::Result<tokio::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .await
        .map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })
}

impl Sink for JsonlSink {
    async fn write(&mut self, batch: Vec<Event>) -> Result<WriteResults, BoxError> {
        for event in &batch {
            self.out.write_all(&event.value).await?;
            self.out.write_all(b"\n").await?;
        }
        // The write counts as acknowledged once the bytes are handed to the OS.
        self.out.flush().await?;
        Ok(vec![Ok(()); batch.len()])
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        self.out.flush().await?;
        Ok(())
    }
}

/// Discards events; for benchmarks of everything but the sink.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    async fn write(&mut self, batch: Vec<Event>) -> Result<WriteResults, BoxError> {
        Ok(vec![Ok(()); batch.len()])
    }
}

/// Appends dead letters to a JSONL file: one JSON object per failed event with the error,
/// the source position and the original key and value.
pub struct JsonlDeadLetters {
    out: BufWriter<tokio::fs::File>,
}

impl JsonlDeadLetters {
    /// Opens (appends to) the dead-letter file.
    pub async fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: BufWriter::new(create_file(path, true).await?),
        })
    }
}

impl DeadLetterSink for JsonlDeadLetters {
    async fn send(&mut self, letters: Vec<DeadLetter>) -> Result<(), BoxError> {
        for letter in &letters {
            let mut line = serde_json::to_vec(&letter.to_json())?;
            line.push(b'\n');
            self.out.write_all(&line).await?;
        }
        self.out.flush().await?;
        self.out.get_mut().sync_data().await?;
        Ok(())
    }
}
