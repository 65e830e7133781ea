//! cosign's key-based signatures: the public keys they are checked against, and the check of
//! one signature layer.
//!
//! cosign stores an image's signatures as an OCI manifest under the tag `sha256-<hex>.sig`.
//! Each layer is a "simple signing" payload (media type
//! `application/vnd.dev.cosign.simplesigning.v1+json`) naming the signed manifest digest; the
//! layer's annotation `dev.cosignproject.cosign/signature` holds the base64 ECDSA P-256 SHA-256
//! signature (ASN.1 DER) of the payload's bytes, as `cosign sign --key` writes it.

use base64::Engine as _;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use serde_json::Value;

use crate::reference::Digest;

pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const SIGNATURE_TYPE: &str = "cosign container image signature";

/// The DER prefix of a P-256 SubjectPublicKeyInfo: algorithm id-ecPublicKey with prime256v1,
/// then a BIT STRING of 66 bytes (no unused bits, the 65-byte uncompressed point).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A public key signatures are checked against: `cosign.pub`, or any PEM `PUBLIC KEY` of an
/// ECDSA P-256 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// How the configuration names it, for messages.
    pub name: String,
    point: Vec<u8>,
}

impl PublicKey {
    pub fn from_pem(name: &str, pem: &str) -> Result<PublicKey, String> {
        let fail = |why: &str| format!("key {name}: {why}");
        let body = pem
            .trim()
            .strip_prefix("-----BEGIN PUBLIC KEY-----")
            .and_then(|rest| rest.trim_end().strip_suffix("-----END PUBLIC KEY-----"))
            .ok_or_else(|| fail("not a PEM public key (-----BEGIN PUBLIC KEY-----)"))?;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| fail(&format!("the PEM body is not base64: {e}")))?;
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 0x04 => {
                Ok(PublicKey { name: name.to_string(), point: point.to_vec() })
            }
            _ => Err(fail("only ECDSA P-256 keys are supported (cosign generate-key-pair makes them)")),
        }
    }

    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point).verify(message, signature).is_ok()
    }
}

/// One signature layer of a `.sig` manifest, its payload fetched.
#[derive(Debug, Clone)]
pub struct SignatureLayer {
    pub payload: Vec<u8>,
    /// The annotation's base64 text.
    pub signature: String,
}

/// The signature layers a `.sig` manifest lists: their payload digests and signatures.
pub fn signature_layers(manifest: &[u8]) -> Result<Vec<(Digest, String)>, String> {
    let manifest: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("the signature manifest is not JSON: {e}"))?;
    let Some(layers) = manifest["layers"].as_array() else {
        return Err("the signature manifest has no layers".into());
    };
    let mut found = Vec::new();
    for layer in layers.iter().filter(|l| l["mediaType"] == SIMPLE_SIGNING) {
        let (Some(digest), Some(signature)) =
            (layer["digest"].as_str(), layer["annotations"][SIGNATURE_ANNOTATION].as_str())
        else {
            continue;
        };
        found.push((Digest::parse(digest)?, signature.to_string()));
    }
    Ok(found)
}

/// Why an image's signatures do not make it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No signature at all.
    Unsigned,
    /// Signatures, none valid for the keys and this digest; the reasons, one per signature.
    Invalid(Vec<String>),
}

/// The key that signed `digest`, among the layers' signatures, or why none did. A signature
/// counts only when it verifies against a key over the payload's exact bytes, and the payload
/// names this digest as a cosign image signature.
pub fn check(layers: &[SignatureLayer], digest: &Digest, keys: &[PublicKey]) -> Result<String, Rejection> {
    if layers.is_empty() {
        return Err(Rejection::Unsigned);
    }
    let mut reasons = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(layer.signature.trim()) else {
            reasons.push(format!("signature {}: not base64", i + 1));
            continue;
        };
        let Some(key) = keys.iter().find(|k| k.verifies(&layer.payload, &signature)) else {
            reasons.push(format!("signature {}: made by none of the keys ({})", i + 1, names(keys)));
            continue;
        };
        let payload: Value = match serde_json::from_slice(&layer.payload) {
            Ok(p) => p,
            Err(e) => {
                reasons.push(format!("signature {}: the payload is not JSON: {e}", i + 1));
                continue;
            }
        };
        let critical = &payload["critical"];
        if critical["type"] != SIGNATURE_TYPE {
            reasons.push(format!("signature {}: the payload is not a cosign image signature", i + 1));
        } else if critical["image"]["docker-manifest-digest"] != digest.as_str() {
            let signed = critical["image"]["docker-manifest-digest"].as_str().unwrap_or("nothing");
            reasons.push(format!("signature {}: signs {signed}, not {digest}", i + 1));
        } else {
            return Ok(key.name.clone());
        }
    }
    Err(Rejection::Invalid(reasons))
}

fn names(keys: &[PublicKey]) -> String {
    keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    fn key_pair() -> (EcdsaKeyPair, PublicKey) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).expect("pair");
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(pair.public_key().as_ref());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        (pair, PublicKey::from_pem("test", &pem).expect("public key"))
    }

    fn signed(pair: &EcdsaKeyPair, digest: &str) -> SignatureLayer {
        let payload = serde_json::to_vec(&serde_json::json!({"critical": {"identity": {"docker-reference": "r/web"},
            "image": {"docker-manifest-digest": digest}, "type": SIGNATURE_TYPE}, "optional": null}))
        .expect("payload");
        let signature = pair.sign(&SystemRandom::new(), &payload).expect("sign");
        SignatureLayer { payload, signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()) }
    }

    #[test]
    fn a_signature_counts_only_by_a_configured_key_over_this_digest() {
        let digest = Digest::of(b"manifest");
        let (pair, key) = key_pair();
        let (other_pair, other) = key_pair();
        assert_eq!(check(&[signed(&pair, digest.as_str())], &digest, std::slice::from_ref(&key)), Ok("test".into()));
        assert_eq!(check(&[], &digest, std::slice::from_ref(&key)), Err(Rejection::Unsigned));
        let by_other = check(&[signed(&other_pair, digest.as_str())], &digest, std::slice::from_ref(&key));
        assert!(matches!(&by_other, Err(Rejection::Invalid(r)) if r[0].contains("none of the keys")), "{by_other:?}");
        let another_image = check(&[signed(&pair, Digest::of(b"x").as_str())], &digest, std::slice::from_ref(&key));
        assert!(
            matches!(&another_image, Err(Rejection::Invalid(r)) if r[0].contains("not sha256:")),
            "{another_image:?}"
        );
        let mut tampered = signed(&pair, digest.as_str());
        tampered.payload = String::from_utf8(tampered.payload).expect("utf8").replace("r/web", "r/wex").into_bytes();
        assert!(matches!(check(&[tampered.clone()], &digest, std::slice::from_ref(&key)), Err(Rejection::Invalid(_))));
        // One good signature among bad ones is enough, by either key.
        let good = signed(&pair, digest.as_str());
        assert_eq!(check(&[tampered, good], &digest, &[other, key]), Ok("test".into()));
    }

    #[test]
    fn keys_other_than_pem_p256_are_refused_by_name() {
        assert!(PublicKey::from_pem("k", "ssh-ed25519 AAAA").expect_err("not PEM").starts_with("key k: not a PEM"));
        let rsa = "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END PUBLIC KEY-----";
        assert!(PublicKey::from_pem("k", rsa).expect_err("RSA").contains("only ECDSA P-256"));
    }
}
