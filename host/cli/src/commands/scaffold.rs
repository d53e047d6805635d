//! `weir plugin new`: writes a plugin project on the SDK of its language (Rust, JavaScript
//! or Python) that builds with one command and passes its own test.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The language of a new plugin; each has its SDK and template under `plugins/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, on `weir-sdk` (`plugins/sdk`), built with cargo.
    Rust,
    /// JavaScript (TypeScript types included), on `@weir/sdk` (`plugins/sdk-js`), built
    /// with componentize-js.
    #[value(alias = "javascript")]
    Js,
    /// Python, on `weir_sdk` (`plugins/sdk-py`), built with componentize-py.
    #[value(alias = "py")]
    Python,
}

impl Lang {
    /// The template files, embedded so the binary works from anywhere.
    fn template(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::Rust => &RUST_TEMPLATE,
            Lang::Js => &JS_TEMPLATE,
            Lang::Python => &PYTHON_TEMPLATE,
        }
    }

    /// The SDK of the checkout this binary was built from.
    fn built_sdk(self) -> &'static str {
        match self {
            Lang::Rust => concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk"),
            Lang::Js => concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk-js"),
            Lang::Python => concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk-py"),
        }
    }

    /// The SDK folder's name in a weir checkout, for error messages.
    fn sdk_folder(self) -> &'static str {
        match self {
            Lang::Rust => "plugins/sdk",
            Lang::Js => "plugins/sdk-js",
            Lang::Python => "plugins/sdk-py",
        }
    }
}

const RUST_TEMPLATE: [(&str, &str); 4] = [
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

const JS_TEMPLATE: [(&str, &str); 5] = [
    (
        "package.json",
        include_str!("../../../../plugins/template-js/package.json"),
    ),
    (
        "README.md",
        include_str!("../../../../plugins/template-js/README.md"),
    ),
    (
        ".gitignore",
        include_str!("../../../../plugins/template-js/.gitignore"),
    ),
    (
        "src/plugin.js",
        include_str!("../../../../plugins/template-js/src/plugin.js"),
    ),
    (
        "test/plugin.test.mjs",
        include_str!("../../../../plugins/template-js/test/plugin.test.mjs"),
    ),
];

const PYTHON_TEMPLATE: [(&str, &str); 5] = [
    (
        "plugin.py",
        include_str!("../../../../plugins/template-py/plugin.py"),
    ),
    (
        "test_plugin.py",
        include_str!("../../../../plugins/template-py/test_plugin.py"),
    ),
    (
        "build.py",
        include_str!("../../../../plugins/template-py/build.py"),
    ),
    (
        "README.md",
        include_str!("../../../../plugins/template-py/README.md"),
    ),
    (
        ".gitignore",
        include_str!("../../../../plugins/template-py/.gitignore"),
    ),
];

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

/// The plugin's class name in Python: `mask-emails` becomes `MaskEmails`, never one of the
/// SDK names the template imports.
fn class_name(name: &str) -> String {
    let camel: String = name
        .split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    match camel.as_str() {
        "Plugin" | "Config" | "Emit" | "Event" | "EventError" => format!("{camel}Plugin"),
        _ => camel,
    }
}

/// Writes the scaffold for `lang` into `dir/name` and returns that path.
pub fn create(name: &str, dir: &Path, sdk: Option<&Path>, lang: Lang) -> Result<PathBuf> {
    validate_name(name)?;
    let sdk = match sdk {
        Some(path) => path.to_owned(),
        None => PathBuf::from(lang.built_sdk()),
    };
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "the weir SDK is not at {}; pass --sdk-path pointing at a weir checkout's {}",
            sdk.display(),
            lang.sdk_folder()
        )
    })?;
    let root = dir.join(name);
    if root.exists() {
        bail!(
            "{} already exists; choose another name or --dir",
            root.display()
        );
    }
    for (relative, text) in lang.template() {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = text
            .replace("{{name}}", name)
            .replace("{{sdk_path}}", &sdk.to_string_lossy())
            .replace("{{class_name}}", &class_name(name));
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
    fn scaffold_fills_every_placeholder_in_every_language() {
        for lang in [Lang::Rust, Lang::Js, Lang::Python] {
            let dir = tempfile::tempdir().expect("tempdir");
            let root = create("hello-weir", dir.path(), None, lang).expect("created");
            for (relative, _) in lang.template() {
                let text = std::fs::read_to_string(root.join(relative)).expect("file");
                assert!(
                    !text.contains("{{"),
                    "{lang:?} {relative} still has a placeholder"
                );
            }
            assert!(
                create("hello-weir", dir.path(), None, lang).is_err(),
                "no overwrite"
            );
        }
    }

    #[test]
    fn python_class_names_are_camel_case_and_do_not_shadow_the_sdk() {
        assert_eq!(class_name("mask-emails"), "MaskEmails");
        assert_eq!(class_name("geo_ip2"), "GeoIp2");
        assert_eq!(class_name("plugin"), "PluginPlugin");
    }
}
