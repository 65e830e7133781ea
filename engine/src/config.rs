//! The configuration file: per-policy enforcement, parameters and on/off switches, so that a
//! platform team tunes the bundle without editing it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::metadata::{Enforcement, deserialize_node};
use crate::yaml::{self, Limits, Node};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub policies: BTreeMap<String, PolicyOverride>,
    /// Where each override came from, for errors found when it is applied to a bundle.
    #[serde(skip)]
    pub source: Option<SourceMap>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub parameters: serde_json::Map<String, Value>,
}

/// The parsed file, kept to point errors at lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMap {
    pub file: std::path::PathBuf,
    pub root: Node,
}

impl SourceMap {
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, Some(self.root.locate(pointer).position), message)
    }
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, Diagnostics> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::in_file(path, format!("cannot read the configuration: {e}")))?;
        Config::from_source(path, &source)
    }

    pub fn from_source(path: &Path, source: &str) -> Result<Config, Diagnostics> {
        let root = yaml::parse_single(source, &Limits::default())
            .map_err(|e| Diagnostic::new(path, Some(e.position), e.message))?;
        let mut config: Config = deserialize_node(path, &root)?;
        config.source = Some(SourceMap { file: path.to_path_buf(), root });
        Ok(config)
    }

    /// Points at an override's field, or at the file when the config was built in code.
    pub(crate) fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        match &self.source {
            Some(map) => map.diagnostic(pointer, message),
            None => Diagnostic::in_file(Path::new("<configuration>"), message),
        }
    }
}
