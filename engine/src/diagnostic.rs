//! Errors as values that point at a file, and where known a line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::yaml::Position;

/// One problem found in a file of the bundle or of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub position: Option<Position>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, position: Option<Position>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), position, message: message.into() }
    }

    pub fn in_file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic::new(file, None, message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file.display(), p.line, p.column, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem that kept a bundle (or a configuration) from loading. A bundle with any
/// problem is refused whole: it is never half-used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// Reads the `--> file:line:col` line regorus puts in its errors, and the message after it.
pub fn from_regorus_error(fallback_file: &Path, error: &str) -> Diagnostic {
    let mut position = None;
    let mut file = fallback_file.to_path_buf();
    for line in error.lines() {
        if let Some(rest) = line.trim_start().strip_prefix("--> ") {
            let mut parts = rest.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.trim().parse().ok());
            let line_no = parts.next().and_then(|l| l.trim().parse().ok());
            if let (Some(column), Some(line), Some(path)) = (col, line_no, parts.next()) {
                position = Some(Position { line, column });
                file = PathBuf::from(path);
            }
            break;
        }
    }
    let message = error
        .lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .unwrap_or_else(|| error.trim())
        .to_string();
    Diagnostic { file, position, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regorus_locations_are_parsed() {
        let error = "\n--> policies/x/policy.rego:4:1\n  |\n4 | }\n  | ^\nerror: expecting expression";
        let d = from_regorus_error(Path::new("fallback"), error);
        assert_eq!(d.to_string(), "policies/x/policy.rego:4:1: expecting expression");
        let plain = from_regorus_error(Path::new("f.rego"), "something odd");
        assert_eq!(plain.to_string(), "f.rego: something odd");
    }
}
