//! Secrets in configuration: a value written `env:NAME` is read from the environment variable
//! `NAME`, one written `file:PATH` from the file `PATH` (one trailing newline dropped), at
//! start, so passwords stay out of config files and command lines. Errors name the variable or
//! the file, never a value.

use std::path::Path;

/// Where a configured secret's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRef<'a> {
    /// Written in the config itself.
    Literal(&'a str),
    /// `env:NAME`.
    Env(&'a str),
    /// `file:PATH`.
    File(&'a Path),
}

impl<'a> SecretRef<'a> {
    /// Parses a configured value.
    pub fn parse(text: &'a str) -> Self {
        if let Some(name) = text.strip_prefix("env:") {
            SecretRef::Env(name)
        } else if let Some(path) = text.strip_prefix("file:") {
            SecretRef::File(Path::new(path))
        } else {
            SecretRef::Literal(text)
        }
    }

    /// True for `env:` and `file:` references: showing them reveals no secret.
    pub fn is_reference(self) -> bool {
        !matches!(self, SecretRef::Literal(_))
    }

    /// The value: the literal, the variable's or the file's content. The error says what is
    /// missing and how to fix it, without any value.
    pub fn resolve(self) -> Result<String, SecretError> {
        match self {
            SecretRef::Literal(text) => Ok(text.to_owned()),
            SecretRef::Env("") => Err(SecretError::new(
                "`env:` names no variable",
                "write `env:VARIABLE_NAME`",
            )),
            SecretRef::Env(name) => std::env::var(name).map_err(|_| {
                SecretError::new(
                    format!("environment variable `{name}` is not set (or not UTF-8)"),
                    format!("export {name} before starting weir"),
                )
            }),
            SecretRef::File(path) if path.as_os_str().is_empty() => Err(SecretError::new(
                "`file:` names no file",
                "write `file:/path/to/secret`",
            )),
            SecretRef::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    SecretError::new(
                        format!("cannot read the secret file `{}`: {e}", path.display()),
                        "check the path and its permissions",
                    )
                })?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
            }
        }
    }
}

/// Why a secret could not be read: what is missing, and the fix. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}; {fix}")]
pub struct SecretError {
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl SecretError {
    fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        SecretError {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_file_references_resolve_and_their_errors_name_the_source_not_a_value() {
        let dir = std::env::temp_dir().join(format!("weir-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("pw");
        std::fs::write(&file, "from-a-file\n").expect("write");
        let reference = format!("file:{}", file.display());
        assert_eq!(
            SecretRef::parse(&reference).resolve().as_deref(),
            Ok("from-a-file")
        );
        assert_eq!(SecretRef::parse("plain").resolve().as_deref(), Ok("plain"));
        assert!(!SecretRef::parse("plain").is_reference());
        assert!(SecretRef::parse(&reference).is_reference());
        let missing = SecretRef::parse("env:WEIR_TEST_SURELY_UNSET_VARIABLE")
            .resolve()
            .expect_err("unset");
        assert!(
            missing
                .fix
                .contains("export WEIR_TEST_SURELY_UNSET_VARIABLE"),
            "{missing}"
        );
        let gone = format!("file:{}", dir.join("absent").display());
        let err = SecretRef::parse(&gone).resolve().expect_err("absent file");
        assert!(err.problem.contains("absent"), "{err}");
        assert!(SecretRef::parse("env:").resolve().is_err());
        assert!(SecretRef::parse("file:").resolve().is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
