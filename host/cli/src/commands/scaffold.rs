//! `weir plugin new`: writes a plugin crate on the SDK that builds and passes its own test.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The template files, embedded so the binary works from anywhere.
const TEMPLATE: [(&str, &str); 4] = [
    (
        "Cargo.toml",
        include_str!("../../../../plugins/template/Cargo.toml"),
    ),
    (
        "README.md",
        include_str!("../../../../plugins/template/README.md"),
    ),
    (
        ".gitignore",
        include_str!("../../../../plugins/template/.gitignore"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../../plugins/template/src/lib.rs"),
    ),
];

/// The SDK of the checkout this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk");

/// Checks a plugin name: it becomes a crate name and a file name.
pub fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !starts_well || !rest_ok || name.len() > 64 {
        bail!(
            "`{name}` is not a usable plugin name: use lowercase letters, digits, `-` and `_`, starting with a letter (e.g. `mask-emails`)"
        );
    }
    Ok(())
}

/// Writes the scaffold into `dir/name` and returns that path.
pub fn create(name: &str, dir: &Path, sdk: Option<&Path>) -> Result<PathBuf> {
    validate_name(name)?;
    let sdk = match sdk {
        Some(path) => path.to_owned(),
        None => PathBuf::from(BUILT_SDK),
    };
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "the weir SDK is not at {}; pass --sdk-path pointing at a weir checkout's plugins/sdk",
            sdk.display()
        )
    })?;
    let root = dir.join(name);
    if root.exists() {
        bail!(
            "{} already exists; choose another name or --dir",
            root.display()
        );
    }
    for (relative, text) in TEMPLATE {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = text
            .replace("{{name}}", name)
            .replace("{{sdk_path}}", &sdk.to_string_lossy());
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_crate_friendly() {
        assert!(validate_name("mask-emails").is_ok());
        assert!(validate_name("Mask").is_err());
        assert!(validate_name("1st").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("").is_err());
    }

    #[test]
    fn scaffold_fills_every_placeholder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = create("hello-weir", dir.path(), None).expect("created");
        for (relative, _) in TEMPLATE {
            let text = std::fs::read_to_string(root.join(relative)).expect("file");
            assert!(!text.contains("{{"), "{relative} still has a placeholder");
        }
        assert!(
            create("hello-weir", dir.path(), None).is_err(),
            "no overwrite"
        );
    }
}
