//! Clients configured the way weir uses them, shared by this crate's test binaries (each
//! binary uses a subset, hence the allowance below).
#![allow(dead_code, unused_imports)]

mod cassandra;
mod kafka;

pub use cassandra::*;
pub use kafka::*;
