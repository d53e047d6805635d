//! The compiled-plugin cache: one entry per (component, engine) pair, so that a restart
//! loads a compiled component instead of compiling it (seconds for a JavaScript or Python
//! runtime, milliseconds from the cache).
//!
//! An entry is two files named after its key: `KEY.cwasm`, exactly what
//! `Component::serialize` produced (so wasmtime maps it from disk instead of copying it),
//! and `KEY.sum`, its length and checksum. A load first checks the whole `.cwasm` against
//! the checksum and only then hands it to wasmtime: a truncated, bit-flipped, missing or
//! mismatched file is removed and the component recompiled, never trusted.
//!
//! Keys and checksums are XXH3-128 with a random secret drawn when the cache directory is
//! first used (`checksum.key`): a few milliseconds for a 37 MB compiled component where
//! SHA-256 took tens, and without the secret nobody can craft two components, or a
//! component and a `.cwasm`, that share a key or checksum. Whoever can write the cache
//! directory can plant code regardless: it must belong to weir alone.

use std::fs::File;
use std::hash::{BuildHasher, Hasher as _};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use twox_hash::xxhash3_128::{DEFAULT_SECRET_LENGTH, Hasher};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The secret's file in the cache directory.
const SECRET_FILE: &str = "checksum.key";
/// First bytes of a `.sum` file; a new layout gets a new magic.
const SUM_MAGIC: &[u8; 8] = b"weirsum1";
/// Magic, length of the `.cwasm` (u64 LE), checksum (u128 LE).
const SUM_LEN: usize = 8 + 8 + 16;
/// How much of a `.cwasm` is read and hashed at a time.
const CHUNK: usize = 1 << 20;

/// An open cache directory.
pub(crate) struct Cache {
    dir: PathBuf,
    secret: Box<[u8]>,
}

impl Cache {
    /// Opens `dir`, creating it and its secret on first use. `None` (with a warning) when
    /// the directory or the secret cannot be read or written: plugins then compile.
    pub(crate) fn open(dir: &Path) -> Option<Self> {
        match read_or_create_secret(dir) {
            Ok(secret) => Some(Self {
                dir: dir.to_owned(),
                secret,
            }),
            Err(e) => {
                tracing::warn!(cache = %dir.display(), error = %e, "Cannot use the compiled plugin cache; compiling");
                None
            }
        }
    }

    /// The entry's key for `component` compiled by an engine whose compatibility hash is
    /// `engine`.
    pub(crate) fn key(&self, component: &[u8], engine: &str) -> String {
        let mut hasher = self.hasher();
        hasher.write(component);
        format!("{:032x}-{engine}", hasher.finish_128())
    }

    fn hasher(&self) -> Hasher {
        Hasher::with_seed_and_secret(0, self.secret.clone())
            .expect("the secret has the default length")
    }

    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{key}.cwasm")),
            self.dir.join(format!("{key}.sum")),
        )
    }

    /// The compiled component of entry `key`, if there is one and it is intact.
    pub(crate) fn load(&self, engine: &Engine, key: &str) -> Option<Component> {
        let (cwasm, sum) = self.paths(key);
        let expected = match std::fs::read(&sum) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if cwasm.exists() {
                    self.discard(key, "its checksum file is missing");
                }
                return None;
            }
            Err(e) => {
                tracing::warn!(cache = %sum.display(), error = %e, "Cannot read the compiled plugin cache; recompiling");
                return None;
            }
        };
        let Some((len, checksum)) = parse_sum(&expected) else {
            self.discard(key, "its checksum file is malformed");
            return None;
        };
        match self.checksum_file(key, &cwasm) {
            Ok((l, c)) if l == len && c == checksum => {}
            Ok((l, _)) if l != len => {
                self.discard(key, &format!("it is {l} bytes, not {len}"));
                return None;
            }
            Ok(_) => {
                self.discard(key, "its checksum does not match");
                return None;
            }
            Err(e) => {
                self.discard(key, &format!("it cannot be read: {e}"));
                return None;
            }
        }
        // SAFETY: the file holds what `Component::serialize` wrote for this exact engine
        // configuration (the key carries the engine's compatibility hash), as its length
        // and keyed checksum have just proved. Entries are only ever replaced whole (written
        // aside, then renamed), never modified in place, so the file wasmtime maps is the
        // one checked.
        #[allow(
            unsafe_code,
            reason = "deserializing our own checksummed compilation output"
        )]
        let component = unsafe { Component::deserialize_file(engine, &cwasm) };
        match component {
            Ok(c) => Some(c),
            Err(e) => {
                self.discard(key, &format!("wasmtime refused it: {e:#}"));
                None
            }
        }
    }

    /// Keyed checksum of an entry: its key, then its `.cwasm`. An entry renamed to
    /// another key's name fails it.
    fn checksum(&self, key: &str) -> Hasher {
        let mut hasher = self.hasher();
        hasher.write(key.as_bytes());
        hasher
    }

    /// Length and checksum of entry `key`'s `.cwasm`, read in chunks (no copy of the whole
    /// file).
    fn checksum_file(&self, key: &str, path: &Path) -> std::io::Result<(u64, u128)> {
        let mut file = File::open(path)?;
        let mut hasher = self.checksum(key);
        let mut buffer = vec![0u8; CHUNK];
        let mut len = 0u64;
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.write(&buffer[..n]);
            len += n as u64;
        }
        Ok((len, hasher.finish_128()))
    }

    fn discard(&self, key: &str, why: &str) {
        let (cwasm, sum) = self.paths(key);
        tracing::warn!(cache = %cwasm.display(), "Compiled plugin cache entry is unusable ({why}); recompiling");
        let _ = std::fs::remove_file(&cwasm);
        let _ = std::fs::remove_file(&sum);
    }

    /// Stores `component` as entry `key`. Failures only cost a recompilation next time.
    pub(crate) fn store(&self, component: &Component, key: &str) {
        let body = match component.serialize() {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot serialize a compiled plugin for the cache");
                return;
            }
        };
        let mut hasher = self.checksum(key);
        hasher.write(&body);
        let mut sum = Vec::with_capacity(SUM_LEN);
        sum.extend_from_slice(SUM_MAGIC);
        sum.extend_from_slice(&(body.len() as u64).to_le_bytes());
        sum.extend_from_slice(&hasher.finish_128().to_le_bytes());
        let (cwasm, sum_path) = self.paths(key);
        // The `.cwasm` first: a reader that meets the new `.cwasm` with an older `.sum`
        // finds a mismatch and recompiles; it never trusts unchecked bytes.
        let written = write_aside(&cwasm, &body).and_then(|()| write_aside(&sum_path, &sum));
        if let Err(e) = written {
            tracing::warn!(cache = %cwasm.display(), error = %e, "Cannot write the compiled plugin cache");
        } else {
            tracing::debug!(cache = %cwasm.display(), "Cached compiled plugin");
        }
    }
}

fn parse_sum(bytes: &[u8]) -> Option<(u64, u128)> {
    if bytes.len() != SUM_LEN || !bytes.starts_with(SUM_MAGIC) {
        return None;
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().ok()?);
    let checksum = u128::from_le_bytes(bytes[16..32].try_into().ok()?);
    Some((len, checksum))
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`.
fn write_aside(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let written = std::fs::write(&tmp, data).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The directory's secret, drawn on first use. Created aside and hard-linked into place,
/// so concurrent first uses agree on one secret.
fn read_or_create_secret(dir: &Path) -> std::io::Result<Box<[u8]>> {
    let path = dir.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(secret) if secret.len() == DEFAULT_SECRET_LENGTH => return Ok(secret.into()),
        Ok(_) => {
            // Truncated or foreign: entries keyed with it are unreachable from now on.
            tracing::warn!(cache = %path.display(), "Compiled plugin cache key is malformed; drawing a new one");
            std::fs::remove_file(&path)?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{SECRET_FILE}.tmp{}", std::process::id()));
    let mut file = File::create(&tmp)?;
    file.write_all(&random_secret())?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {} // another process won
        Err(e) => return Err(e),
    }
    let secret = std::fs::read(&path)?;
    if secret.len() != DEFAULT_SECRET_LENGTH {
        return Err(std::io::Error::other(
            "the cache's checksum key is malformed",
        ));
    }
    Ok(secret.into())
}

/// 192 bytes from the standard library's randomly keyed SipHash (keys drawn from the
/// operating system once per thread), counter mode.
fn random_secret() -> Vec<u8> {
    let state = std::collections::hash_map::RandomState::new();
    (0..DEFAULT_SECRET_LENGTH / 8)
        .flat_map(|i| {
            let mut h = state.build_hasher();
            h.write_usize(i);
            h.finish().to_le_bytes()
        })
        .collect()
}
