//! `policy-scan policies` and `policy-scan guidelines`: the bundle listed, and the guidelines
//! traced to the policies and to what meets the other bullets.

use std::path::Path;
use std::process::ExitCode;

use gatehouse_engine::{Bundle, guidelines};
use policy_scan::catalog::{self, CatalogFormat};

fn load(bundle_dir: &Path, config: Option<&Path>) -> Result<Bundle, ExitCode> {
    Bundle::load_configured(bundle_dir, config).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

pub fn policies(bundle_dir: &Path, config: Option<&Path>, format: CatalogFormat) -> ExitCode {
    match load(bundle_dir, config) {
        Ok(bundle) => {
            print!("{}", catalog::render(&bundle, format));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn read(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: {}: cannot read: {e}", path.display());
        ExitCode::from(2)
    })
}

/// Writes (or with `check`, compares) the traceability map; exit 1 when the file is stale, 2
/// when a bullet is met by nothing or a policy or mapping entry names no bullet.
pub fn guidelines(
    bundle_dir: &Path,
    guidelines_file: &Path,
    mapping_file: &Path,
    output: Option<&Path>,
    check: bool,
) -> ExitCode {
    let result = (|| {
        let bundle = load(bundle_dir, None)?;
        let text = read(guidelines_file)?;
        let mapping = read(mapping_file)?;
        let traces = guidelines::trace(guidelines_file, &text, &bundle, mapping_file, &mapping).map_err(|e| {
            eprintln!("error: the guidelines are not all traced\n{e}");
            ExitCode::from(2)
        })?;
        Ok::<_, ExitCode>(guidelines::render_markdown(&traces, &bundle))
    })();
    let markdown = match result {
        Ok(m) => m,
        Err(code) => return code,
    };
    match (output, check) {
        (Some(path), true) => match std::fs::read_to_string(path) {
            Ok(existing) if existing == markdown => ExitCode::SUCCESS,
            _ => {
                eprintln!(
                    "error: {} is not up to date: run `policy-scan guidelines --output {}`",
                    path.display(),
                    path.display()
                );
                ExitCode::from(1)
            }
        },
        (Some(path), false) => match std::fs::write(path, markdown) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {}: cannot write: {e}", path.display());
                ExitCode::from(2)
            }
        },
        (None, _) => {
            print!("{markdown}");
            ExitCode::SUCCESS
        }
    }
}
