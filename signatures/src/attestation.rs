//! cosign vulnerability attestations (`cosign attest --type vuln --key`): a DSSE envelope
//! stored under `sha256-<hex>.att` (layer media type `application/vnd.dsse.envelope.v1+json`),
//! whose in-toto statement names the image digest as its subject and carries the scanner's
//! report (`predicate.scanner.result`, trivy's JSON) and when the scan finished
//! (`predicate.metadata.scanFinishedOn`). The envelope is signed over DSSE's pre-authentication
//! encoding with the same keys as the image signatures.

use base64::Engine as _;
use serde_json::Value;

use crate::cosign::PublicKey;
use crate::reference::Digest;

pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// What an attestation must show: a scan no older than `max_age_seconds`, with no finding at or
/// above `severity` (only fixable ones when `ignore_unfixed`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub max_age_seconds: u64,
    pub severity: Severity,
    pub ignore_unfixed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        Some(match text.to_ascii_uppercase().as_str() {
            "UNKNOWN" => Severity::Unknown,
            "LOW" => Severity::Low,
            "MEDIUM" => Severity::Medium,
            "HIGH" => Severity::High,
            "CRITICAL" => Severity::Critical,
            _ => return None,
        })
    }
}

/// What the image's attestations show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A valid, recent scan without findings at the threshold: when it finished (seconds since
    /// the epoch).
    Passed {
        scanned_at: u64,
    },
    Missing,
    /// The newest valid scan is too old.
    Stale {
        scanned_at: u64,
    },
    /// The newest valid scan found these at or above the threshold (vulnerability ids).
    Vulnerable {
        scanned_at: u64,
        findings: Vec<String>,
    },
    /// Attestations, none valid for the keys and this digest.
    Invalid(Vec<String>),
}

/// DSSE's pre-authentication encoding, the bytes a DSSE signature signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    bytes.extend_from_slice(payload);
    bytes
}

/// A valid vulnerability statement of `digest` in one envelope: its scan time and findings at
/// the threshold.
fn read_envelope(
    envelope: &[u8],
    digest: &Digest,
    keys: &[PublicKey],
    need: &Requirement,
) -> Result<(u64, Vec<String>), String> {
    let envelope: Value = serde_json::from_slice(envelope).map_err(|e| format!("not a DSSE envelope: {e}"))?;
    let payload_type = envelope["payloadType"].as_str().unwrap_or("");
    if payload_type != IN_TOTO {
        return Err(format!("payload type {payload_type:?}, not {IN_TOTO}"));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap_or(""))
        .map_err(|e| format!("the payload is not base64: {e}"))?;
    let signed = pae(payload_type, &payload);
    let signatures = envelope["signatures"].as_array().map(Vec::as_slice).unwrap_or_default();
    let valid = signatures.iter().any(|s| {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(s["sig"].as_str().unwrap_or("")) else {
            return false;
        };
        keys.iter().any(|k| k.verifies(&signed, &signature))
    });
    if !valid {
        return Err("signed by none of the keys".into());
    }
    let statement: Value = serde_json::from_slice(&payload).map_err(|e| format!("the statement is not JSON: {e}"))?;
    if statement["predicateType"] != VULN_PREDICATE {
        return Err(format!("predicate {}, not a vulnerability scan", statement["predicateType"]));
    }
    let hex = digest.as_str().trim_start_matches("sha256:");
    let subjects = statement["subject"].as_array().map(Vec::as_slice).unwrap_or_default();
    if !subjects.iter().any(|s| s["digest"]["sha256"] == hex) {
        return Err(format!("its subject is not {digest}"));
    }
    let predicate = &statement["predicate"];
    let finished = predicate["metadata"]["scanFinishedOn"].as_str().unwrap_or("");
    let scanned_at = rfc3339_seconds(finished).ok_or_else(|| format!("scanFinishedOn {finished:?} is not a time"))?;
    let mut findings = Vec::new();
    for result in predicate["scanner"]["result"]["Results"].as_array().map(Vec::as_slice).unwrap_or_default() {
        for v in result["Vulnerabilities"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let severity = v["Severity"].as_str().and_then(Severity::parse).unwrap_or(Severity::Unknown);
            let fixable = v["FixedVersion"].as_str().is_some_and(|f| !f.is_empty());
            if severity >= need.severity && (fixable || !need.ignore_unfixed) {
                findings.push(v["VulnerabilityID"].as_str().unwrap_or("?").to_string());
            }
        }
    }
    Ok((scanned_at, findings))
}

/// Judges the envelopes of an image's `.att` manifest: the newest valid vulnerability scan
/// decides.
pub fn judge(envelopes: &[Vec<u8>], digest: &Digest, keys: &[PublicKey], need: &Requirement, now: u64) -> Finding {
    if envelopes.is_empty() {
        return Finding::Missing;
    }
    let mut reasons = Vec::new();
    let mut newest: Option<(u64, Vec<String>)> = None;
    for (i, envelope) in envelopes.iter().enumerate() {
        match read_envelope(envelope, digest, keys, need) {
            Ok(found) if newest.as_ref().is_none_or(|n| found.0 > n.0) => newest = Some(found),
            Ok(_) => {}
            Err(e) => reasons.push(format!("attestation {}: {e}", i + 1)),
        }
    }
    match newest {
        None => Finding::Invalid(reasons),
        Some((scanned_at, _)) if now.saturating_sub(scanned_at) > need.max_age_seconds => Finding::Stale { scanned_at },
        Some((scanned_at, findings)) if !findings.is_empty() => Finding::Vulnerable { scanned_at, findings },
        Some((scanned_at, _)) => Finding::Passed { scanned_at },
    }
}

/// `2026-11-28T10:00:00Z` (or with a fraction, or an offset) as seconds since the epoch.
pub fn rfc3339_seconds(text: &str) -> Option<u64> {
    let (date, rest) = text.split_once(['T', 't'])?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => return None,
    };
    let mut t = time.split(':');
    let (h, min) = (t.next()?.parse::<i64>().ok()?, t.next()?.parse::<i64>().ok()?);
    let sec = t.next()?.split('.').next()?.parse::<i64>().ok()?;
    let offset = match offset {
        "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + min * 60 + sec - offset).ok()
}

/// Seconds since the epoch as `2026-11-28T10:00:00Z`.
pub fn rfc3339(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    // The civil date of a day count (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc3339() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2026-11-28T10:00:00Z"), Some(1_795_860_000));
        assert_eq!(rfc3339_seconds("2026-11-28T11:00:00.123456+01:00"), Some(1_795_860_000));
        assert_eq!(rfc3339_seconds("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in ["", "2026-13-01T00:00:00Z", "2026-11-28", "2026-11-28T10:00:00", "x-y-zT1:2:3Z"] {
            assert_eq!(rfc3339_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_are_written_as_rfc3339_and_read_back() {
        assert_eq!(rfc3339(1_795_860_000), "2026-11-28T10:00:00Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        for t in [951_782_400, 1_709_164_800, 4_102_444_799, 1_795_899_599] {
            assert_eq!(rfc3339_seconds(&rfc3339(t)), Some(t), "{t}");
        }
    }

    #[test]
    fn the_pre_authentication_encoding_is_dsse_v1() {
        assert_eq!(pae("application/vnd.in-toto+json", b"hello"), b"DSSEv1 28 application/vnd.in-toto+json 5 hello");
    }
}
