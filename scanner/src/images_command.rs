//! `policy-scan images`: thin: parse the options, scan the images, write each format, exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use policy_scan::format::Sources;
use policy_scan::images::{ImagesOptions, images_observed};
use policy_scan::trivy::Trivy;

use crate::scan_command::{RenderArgs, ReportArgs, conclude, prepare};

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Files and directories whose resources' images are scanned; `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    report: ReportArgs,
    /// Images scanned at a time (trivy processes).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    parallel: u16,
    /// The most one image's scan may take, in seconds; past it the scan is stopped and is an
    /// error.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// trivy's cache directory (`--cache-dir`); trivy's own cache when not given.
    #[arg(long, value_name = "DIR")]
    trivy_cache_dir: Option<PathBuf>,
    /// Also check the signatures (and attestations) of the images the configuration's
    /// `imageVerification` rules cover, as the webhook does at admission.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    render: RenderArgs,
}

pub fn run(args: ImagesArgs) -> ExitCode {
    let prepared = match prepare(args.paths, &args.report, args.render) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let options = ImagesOptions {
        scan: prepared.options.clone(),
        trivy: Trivy {
            timeout: Duration::from_secs(args.timeout),
            cache_dir: args.trivy_cache_dir,
            ..Trivy::default()
        },
        parallel: usize::from(args.parallel),
        verify: args.verify,
    };
    let mut sources = Sources::new();
    let mut stdin = std::io::stdin().lock();
    let report = images_observed(&prepared.bundle, &options, &mut stdin, &mut |read| {
        for s in read {
            sources.insert(s.name.clone(), s.text.clone());
        }
    });
    let nothing = (report.summary.images == 0 && report.errors.is_empty())
        .then_some("no container image in the resources of the given paths");
    conclude(report, &sources, prepared, &args.report, nothing)
}
