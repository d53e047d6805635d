//! Line-oriented sources and sinks: the simplest way to run weir, and the way plugin authors
//! test on sample data. One JSON document per line.

mod sink;
mod source;

pub use sink::{JsonlDeadLetters, JsonlSink, NullSink};
pub use source::{FileSource, FileSourceConfig, InputTimestamp};
