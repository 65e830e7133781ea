//! Finding the sources to scan: files and directories (walked with walkdir, honouring
//! `.policyscanignore` files in gitignore syntax, each for its own directory and below) and
//! standard input (`-`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use walkdir::WalkDir;

use crate::documents::Source;

pub const IGNORE_FILE: &str = ".policyscanignore";
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];
/// A binary plan (`terraform plan -out`) is a zip archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A source that could not be read; the scan goes on without it and ends with exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub source: Arc<str>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub sources: Vec<Source>,
    pub errors: Vec<ReadError>,
    /// Files under a walked directory passed over because of their extension.
    pub other_files: usize,
    /// Files and directories a `.policyscanignore` excluded.
    pub ignored: Vec<PathBuf>,
    /// Directories holding `.tf` files, in the order found; their files are also in `sources`.
    pub terraform_dirs: Vec<PathBuf>,
    /// Charts and kustomizations: rendered, their files not read as manifests.
    pub render_roots: Vec<crate::render::Root>,
}

/// Largest source read, in bytes; a larger one is an error rather than a memory risk.
pub const MAX_SOURCE_BYTES: u64 = 32 * 1024 * 1024;

pub fn discover(paths: &[String], stdin: &mut dyn Read) -> Discovered {
    discover_with(paths, stdin, None)
}

/// [`discover`], converting binary Terraform plans with `terraform show -json` run in `tf_root`
/// (the configuration the plan was made from; the plan's own directory when not given).
pub fn discover_with(paths: &[String], stdin: &mut dyn Read, tf_root: Option<&Path>) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path == "-" {
            let mut bytes = Vec::new();
            let limited = stdin.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes);
            push_bytes(&mut found, "<stdin>", limited.map(|_| bytes));
            continue;
        }
        let path = Path::new(path);
        if path.is_dir() {
            walk(path, &mut found, tf_root);
        } else {
            // A file named explicitly is scanned whatever its extension.
            push_file(&mut found, path, tf_root);
        }
    }
    found
}

fn walk(root: &Path, found: &mut Discovered, tf_root: Option<&Path>) {
    let mut matchers: HashMap<PathBuf, Gitignore> = HashMap::new();
    let mut entries = WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let source = e.path().unwrap_or(root).display().to_string();
                found.errors.push(ReadError { source: source.into(), message: format!("cannot read: {e}") });
                continue;
            }
        };
        let path = entry.path();
        let is_dir = entry.file_type().is_dir();
        if entry.depth() > 0 && ignored(&matchers, root, path, is_dir) {
            found.ignored.push(path.to_path_buf());
            if is_dir {
                entries.skip_current_dir();
            }
            continue;
        }
        if is_dir {
            if entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.') {
                // Hidden directories (.git, .terraform) are not manifests.
                entries.skip_current_dir();
                continue;
            }
            // A chart's templates and an overlay's patches are not manifests: their render is.
            if let Some(root) = crate::render::Root::of(path) {
                found.render_roots.push(root);
                entries.skip_current_dir();
                continue;
            }
            let ignore_file = path.join(IGNORE_FILE);
            if ignore_file.is_file() {
                let mut builder = GitignoreBuilder::new(path);
                if let Some(e) = builder.add(&ignore_file) {
                    let source = ignore_file.display().to_string();
                    found.errors.push(ReadError { source: source.into(), message: e.to_string() });
                }
                match builder.build() {
                    Ok(m) => {
                        matchers.insert(path.to_path_buf(), m);
                    }
                    Err(e) => {
                        let source = ignore_file.display().to_string();
                        found.errors.push(ReadError { source: source.into(), message: e.to_string() });
                    }
                }
            }
            continue;
        }
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if EXTENSIONS.contains(&extension) || extension == "tf" || extension == "tfplan" {
            push_file(found, path, tf_root);
        } else if entry.file_name() != IGNORE_FILE {
            found.other_files += 1;
        }
    }
}

/// gitignore precedence: the nearest ignore file that says something about the path decides.
fn ignored(matchers: &HashMap<PathBuf, Gitignore>, root: &Path, path: &Path, is_dir: bool) -> bool {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if let Some(m) = matchers.get(d) {
            match m.matched_path_or_any_parents(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    false
}

fn push_file(found: &mut Discovered, path: &Path, tf_root: Option<&Path>) {
    let name = path.display().to_string();
    if path.extension().is_some_and(|e| e == "tf") {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        if !found.terraform_dirs.contains(&dir) {
            found.terraform_dirs.push(dir);
        }
    }
    if std::fs::File::open(path)
        .and_then(|mut f| {
            let mut magic = [0u8; 4];
            f.read_exact(&mut magic).map(|()| magic)
        })
        .is_ok_and(|m| m == ZIP_MAGIC)
    {
        let cwd = tf_root.map(Path::to_path_buf).or_else(|| path.parent().map(Path::to_path_buf));
        let converted = crate::terraform::show_json(path, cwd.as_deref().filter(|p| !p.as_os_str().is_empty()));
        let source: Arc<str> = name.into();
        match converted {
            Ok(text) => found.sources.push(Source { name: source, text: text.into() }),
            Err(message) => found.errors.push(ReadError { source, message }),
        }
        return;
    }
    let bytes = std::fs::metadata(path).and_then(|m| {
        if m.len() > MAX_SOURCE_BYTES {
            Err(std::io::Error::other(format!("{} bytes, more than the limit of {MAX_SOURCE_BYTES}", m.len())))
        } else {
            std::fs::read(path)
        }
    });
    push_bytes(found, &name, bytes);
}

fn push_bytes(found: &mut Discovered, name: &str, bytes: std::io::Result<Vec<u8>>) {
    let source: Arc<str> = name.into();
    let bytes = match bytes {
        Ok(b) if b.len() as u64 > MAX_SOURCE_BYTES => {
            let message = format!("more than the limit of {MAX_SOURCE_BYTES} bytes");
            return found.errors.push(ReadError { source, message });
        }
        Ok(b) => b,
        Err(e) => return found.errors.push(ReadError { source, message: format!("cannot read: {e}") }),
    };
    if bytes.contains(&0) {
        let message = "a binary file (it holds NUL bytes), not YAML or JSON".to_string();
        return found.errors.push(ReadError { source, message });
    }
    match String::from_utf8(bytes) {
        Ok(text) => found.sources.push(Source { name: source, text: text.into() }),
        Err(e) => found.errors.push(ReadError {
            source,
            message: format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &Discovered, root: &Path) -> Vec<String> {
        found
            .sources
            .iter()
            .map(|s| Path::new(&*s.name).strip_prefix(root).map(|p| p.display().to_string()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn directories_are_walked_with_their_ignore_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (file, text) in [
            ("a.yaml", "x: 1\n"),
            ("b.yml", "x: 1\n"),
            ("c.json", "{}\n"),
            ("README.md", "# no\n"),
            ("vendor/d.yaml", "x: 1\n"),
            ("sub/e.yaml", "x: 1\n"),
            ("sub/generated-f.yaml", "x: 1\n"),
            ("sub/keep/generated-g.yaml", "x: 1\n"),
            (".git/h.yaml", "x: 1\n"),
            (".policyscanignore", "vendor/\n"),
            ("sub/.policyscanignore", "generated-*\n!keep/generated-g.yaml\n"),
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let found = discover(&[root.display().to_string()], &mut std::io::empty());
        assert_eq!(names(&found, root), ["a.yaml", "b.yml", "c.json", "sub/e.yaml", "sub/keep/generated-g.yaml"]);
        assert_eq!(found.other_files, 1);
        assert_eq!(found.ignored.len(), 2, "{:?}", found.ignored);
        assert!(found.errors.is_empty());
    }

    #[test]
    fn stdin_binary_and_missing_files_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let binary = dir.path().join("image.yaml");
        std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0]).expect("write");
        let paths = ["-".to_string(), binary.display().to_string(), "/nonexistent.yaml".to_string()];
        let found = discover(&paths, &mut "apiVersion: v1\n".as_bytes());
        assert_eq!(found.sources.len(), 1);
        assert_eq!(&*found.sources[0].name, "<stdin>");
        let messages: Vec<&str> = found.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages[0], "a binary file (it holds NUL bytes), not YAML or JSON");
        assert!(messages[1].starts_with("cannot read: "), "{messages:?}");
    }
}
