//! The few OCI distribution API calls verification needs: a tag's manifest digest, a manifest,
//! a blob. Anonymous pulls with the registries' bearer-token challenge (Docker Hub, GHCR,
//! Harbor, Scaleway's registry), every call bounded in time and size, content checked against
//! its digest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::{Method, Request, StatusCode, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::reference::{Digest, Reference};

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
/// The largest manifest or signature payload read; both are small JSON documents.
const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// Why a registry call gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// The tag, manifest or blob does not exist (404).
    NotFound(String),
    /// Anything else: unreachable, refused, timed out, an error status, a body that does not
    /// match its digest.
    Failed(String),
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::NotFound(what) | RegistryError::Failed(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for RegistryError {}

/// A registry host and a repository: what a pull token is good for.
type Scope = (String, String);
/// A bearer token, and when to stop using it.
type Token = (String, Instant);

/// A client of the registries images come from.
#[derive(Clone)]
pub struct Registry {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    /// Registries spoken to over plain HTTP (a registry on loopback, say), as Docker's
    /// `insecure-registries`.
    plain_http: Arc<Vec<String>>,
    timeout: Duration,
    tokens: Arc<Mutex<HashMap<Scope, Token>>>,
    calls: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("plain_http", &self.plain_http).field("timeout", &self.timeout).finish()
    }
}

impl Registry {
    /// A client trusting the system's roots; `timeout` bounds each call.
    pub fn new(plain_http: Vec<String>, timeout: Duration) -> Result<Registry, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|e| format!("cannot read the system's root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Registry {
            client: Client::builder(TokioExecutor::new()).build(connector),
            plain_http: Arc::new(plain_http),
            timeout,
            tokens: Arc::default(),
            calls: Arc::default(),
        })
    }

    /// Requests sent so far (tokens included), for metrics and tests.
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn url(&self, image: &Reference, path: &str) -> String {
        let scheme = if self.plain_http.iter().any(|h| h == &image.registry) { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}/{path}", image.api_host(), image.repository)
    }

    /// The digest of the manifest a tag (or digest) names, from `Docker-Content-Digest`, or by
    /// hashing the manifest when the registry does not send it.
    pub async fn manifest_digest(&self, image: &Reference) -> Result<Digest, RegistryError> {
        let url = self.url(image, &format!("manifests/{}", image.manifest_reference()));
        let (status, headers, _) = self.send(image, Method::HEAD, &url, MANIFEST_TYPES).await?;
        check(status, &url)?;
        if let Some(digest) = headers.get("docker-content-digest").and_then(|v| v.to_str().ok()) {
            return Digest::parse(digest).map_err(RegistryError::Failed);
        }
        let (_, _, body) = self.send(image, Method::GET, &url, MANIFEST_TYPES).await?;
        Ok(Digest::of(&body))
    }

    /// A manifest by tag or digest; fetched by digest, its bytes must hash to it.
    pub async fn manifest(&self, image: &Reference, reference: &str) -> Result<Bytes, RegistryError> {
        let url = self.url(image, &format!("manifests/{reference}"));
        let (status, _, body) = self.send(image, Method::GET, &url, MANIFEST_TYPES).await?;
        check(status, &url)?;
        if let Ok(digest) = Digest::parse(reference)
            && Digest::of(&body) != digest
        {
            return Err(RegistryError::Failed(format!("{url}: the manifest does not match its digest")));
        }
        Ok(body)
    }

    /// A blob, which must hash to its digest.
    pub async fn blob(&self, image: &Reference, digest: &Digest) -> Result<Bytes, RegistryError> {
        let mut url = self.url(image, &format!("blobs/{digest}"));
        // Registries hand blobs to their storage by redirect.
        for _ in 0..4 {
            let (status, headers, body) = self.send(image, Method::GET, &url, "*/*").await?;
            if status.is_redirection() {
                let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
                    return Err(RegistryError::Failed(format!("{url}: a redirect without a location")));
                };
                url = absolute(&url, location);
                continue;
            }
            check(status, &url)?;
            if Digest::of(&body) != *digest {
                return Err(RegistryError::Failed(format!("{url}: the blob does not match its digest")));
            }
            return Ok(body);
        }
        Err(RegistryError::Failed(format!("{url}: too many redirects")))
    }

    /// One call, with the bearer token the registry asked for on an earlier 401, or asking for
    /// one now.
    async fn send(
        &self,
        image: &Reference,
        method: Method,
        url: &str,
        accept: &str,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), RegistryError> {
        let scope_key = (image.api_host().to_string(), image.repository.clone());
        let token = crate::lock(&self.tokens).get(&scope_key).filter(|(_, until)| Instant::now() < *until).cloned();
        let answer = self.request(method.clone(), url, accept, token.as_ref().map(|t| t.0.as_str())).await?;
        if answer.0 != StatusCode::UNAUTHORIZED || token.is_some() {
            return Ok(answer);
        }
        let challenge = answer.1.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let Some(token) = self.token(challenge, &image.repository).await? else {
            return Ok(answer);
        };
        crate::lock(&self.tokens).insert(scope_key, token.clone());
        self.request(method, url, accept, Some(&token.0)).await
    }

    /// An anonymous pull token for the repository, when the challenge is a bearer one.
    async fn token(&self, challenge: &str, repository: &str) -> Result<Option<Token>, RegistryError> {
        let Some(parameters) = challenge.strip_prefix("Bearer ") else { return Ok(None) };
        let field = |name: &str| {
            parameters.split(',').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_string())
            })
        };
        let Some(realm) = field("realm") else { return Ok(None) };
        let mut url = format!("{realm}?scope=repository:{repository}:pull");
        if let Some(service) = field("service") {
            url.push_str(&format!("&service={service}"));
        }
        let (status, _, body) = self.request(Method::GET, &url, "application/json", None).await?;
        check(status, &url)?;
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Failed(format!("{url}: the token answer is not JSON: {e}")))?;
        let Some(token) = answer["token"].as_str().or(answer["access_token"].as_str()) else {
            return Err(RegistryError::Failed(format!("{url}: the token answer holds no token")));
        };
        let lifetime = answer["expires_in"].as_u64().unwrap_or(60).clamp(10, 3600);
        Ok(Some((token.to_string(), Instant::now() + Duration::from_secs(lifetime - 5))))
    }

    async fn request(
        &self,
        method: Method,
        url: &str,
        accept: &str,
        token: Option<&str>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), RegistryError> {
        let mut request = Request::builder().method(method).uri(url).header(header::ACCEPT, accept);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Empty::new()).map_err(|e| RegistryError::Failed(format!("{url}: {e}")))?;
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                let source = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
                RegistryError::Failed(format!("{url}: {e}{source}"))
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| RegistryError::Failed(format!("{url}: reading the answer: {e}")))?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| RegistryError::Failed(format!("{url}: no answer within {} ms", self.timeout.as_millis())))?
    }
}

fn check(status: StatusCode, url: &str) -> Result<(), RegistryError> {
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::NOT_FOUND => Err(RegistryError::NotFound(format!("{url}: not found"))),
        s => Err(RegistryError::Failed(format!("{url}: {s}"))),
    }
}

/// A redirect's location, made absolute against the URL that gave it.
fn absolute(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let origin_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[origin_end..].find('/').map_or(base.len(), |i| origin_end + i);
    format!("{}{location}", &base[..host_end])
}
