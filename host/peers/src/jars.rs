//! Resolving a server's jars through its pinned POM into the local Maven cache.
//!
//! The first call runs `mvn dependency:build-classpath` (downloading into `~/.m2`); it writes
//! the classpath to a file named after a hash of the POM, renamed into place only when Maven
//! succeeded, so that file is the "completed" marker and later calls start offline at once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, Kind};

/// Where a server's POM lives and where resolved classpaths are cached.
#[derive(Debug, Clone)]
pub struct JarSource {
    /// Directory holding `kafka/pom.xml` and `cassandra/pom.xml` (and the config templates).
    pub maven_dir: PathBuf,
    /// Directory for the cached classpath files.
    pub cache_dir: PathBuf,
    /// The `mvn` command.
    pub mvn: PathBuf,
}

impl JarSource {
    /// The POM pinning `kind`'s version.
    pub fn pom(&self, kind: Kind) -> PathBuf {
        self.maven_dir.join(kind.name()).join("pom.xml")
    }

    /// The jars of `kind` if a completed resolution is cached (so starting needs neither
    /// Maven nor the network), `None` otherwise.
    pub fn cached(&self, kind: Kind) -> Result<Option<Vec<PathBuf>>, Error> {
        read_classpath(&self.marker(kind)?)
    }

    /// The cached classpath file of `kind`, named after a hash of its POM.
    fn marker(&self, kind: Kind) -> Result<PathBuf, Error> {
        let pom = self.pom(kind);
        let pom_text = std::fs::read(&pom).map_err(Error::io("cannot read the POM", &pom))?;
        Ok(self.cache_dir.join(format!(
            "{}-{:016x}.classpath",
            kind.name(),
            fnv1a(&pom_text)
        )))
    }

    /// The jars of `kind`, resolving them with Maven unless a completed resolution is cached.
    pub fn classpath(&self, kind: Kind) -> Result<Vec<PathBuf>, Error> {
        let pom = self.pom(kind);
        let marker = self.marker(kind)?;
        if let Some(jars) = read_classpath(&marker)? {
            return Ok(jars);
        }
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(Error::io("cannot create the jar cache", &self.cache_dir))?;
        let partial = marker.with_extension(format!("partial-{}", std::process::id()));
        let log = self.cache_dir.join(format!("{}-mvn.log", kind.name()));
        let log_file = std::fs::File::create(&log).map_err(Error::io("cannot create", &log))?;
        let log_err = log_file
            .try_clone()
            .map_err(Error::io("cannot open", &log))?;
        let status = Command::new(&self.mvn)
            .args(["-B", "-q", "-f"])
            .arg(&pom)
            .arg("dependency:build-classpath")
            .arg("-Dmdep.includeScope=runtime")
            .arg(format!("-Dmdep.outputFile={}", partial.display()))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .status()
            .map_err(|source| Error::MavenMissing {
                kind,
                mvn: self.mvn.clone(),
                source,
            })?;
        if !status.success() {
            return Err(Error::Maven {
                kind,
                pom,
                status: status.to_string(),
                log,
            });
        }
        std::fs::rename(&partial, &marker).map_err(Error::io("cannot write", &marker))?;
        read_classpath(&marker)?.ok_or_else(|| Error::Maven {
            kind,
            pom,
            status: "classpath lists missing jars".into(),
            log,
        })
    }
}

/// The jars listed in a classpath file, or `None` when it is absent or names a missing jar
/// (someone cleaned `~/.m2`): then Maven has to run again.
fn read_classpath(path: &Path) -> Result<Option<Vec<PathBuf>>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", path)(e)),
    };
    let jars: Vec<PathBuf> = text
        .trim()
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    if jars.is_empty() || jars.iter().any(|jar| !jar.is_file()) {
        return Ok(None);
    }
    Ok(Some(jars))
}

/// Joins jars into a `-cp` argument.
pub(crate) fn join(jars: &[PathBuf]) -> String {
    jars.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// FNV-1a: a hash that stays the same across Rust releases, for cache file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
