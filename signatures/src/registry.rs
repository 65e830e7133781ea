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
/// An `Authorization` header value, and when to stop using it.
type Token = (String, Instant);

/// Pull credentials by registry, from a Docker config file (`~/.docker/config.json`, or the
/// `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret, as imagePullSecrets are).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `base64(user:password)` by registry host.
    basic: std::collections::BTreeMap<String, String>,
}

impl Credentials {
    /// Reads `{"auths": {"<registry>": {"auth": "<base64 user:password>"} | {"username", "password"}}}`;
    /// Docker Hub's key `https://index.docker.io/v1/` counts for `docker.io`.
    pub fn from_docker_config(text: &str) -> Result<Credentials, String> {
        use base64::Engine as _;
        let config: Value = serde_json::from_str(text).map_err(|e| format!("not a Docker config file: {e}"))?;
        let Some(auths) = config["auths"].as_object() else {
            return Err("a Docker config file needs an \"auths\" object".into());
        };
        let mut basic = std::collections::BTreeMap::new();
        for (key, entry) in auths {
            let host = key.trim_start_matches("https://").trim_start_matches("http://");
            let host = host.split('/').next().unwrap_or(host);
            let host = if host == "index.docker.io" { "docker.io" } else { host };
            let encoded = match (entry["auth"].as_str(), entry["username"].as_str(), entry["password"].as_str()) {
                (Some(auth), _, _) if !auth.is_empty() => auth.to_string(),
                (_, Some(user), Some(password)) => {
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                }
                _ => return Err(format!("auths[{key:?}] has neither auth nor username and password")),
            };
            basic.insert(host.to_string(), encoded);
        }
        Ok(Credentials { basic })
    }

    fn basic(&self, registry: &str) -> Option<String> {
        self.basic.get(registry).map(|b| format!("Basic {b}"))
    }
}

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
    credentials: Arc<Credentials>,
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
            credentials: Arc::default(),
        })
    }

    /// The same client, pulling with these credentials where they name the registry.
    pub fn with_credentials(mut self, credentials: Credentials) -> Registry {
        self.credentials = Arc::new(credentials);
        self
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
        let basic = self.credentials.basic(&image.registry);
        let authorization = if challenge.starts_with("Basic") {
            basic.map(|b| (b, Instant::now() + Duration::from_secs(3600)))
        } else {
            self.token(challenge, &image.repository, basic.as_deref()).await?
        };
        let Some(authorization) = authorization else {
            return Ok(answer);
        };
        crate::lock(&self.tokens).insert(scope_key, authorization.clone());
        self.request(method, url, accept, Some(&authorization.0)).await
    }

    /// A pull token for the repository, when the challenge is a bearer one: anonymous, or
    /// asked with the registry's credentials.
    async fn token(
        &self,
        challenge: &str,
        repository: &str,
        basic: Option<&str>,
    ) -> Result<Option<Token>, RegistryError> {
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
        let (status, _, body) = self.request(Method::GET, &url, "application/json", basic).await?;
        check(status, &url)?;
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Failed(format!("{url}: the token answer is not JSON: {e}")))?;
        let Some(token) = answer["token"].as_str().or(answer["access_token"].as_str()) else {
            return Err(RegistryError::Failed(format!("{url}: the token answer holds no token")));
        };
        let lifetime = answer["expires_in"].as_u64().unwrap_or(60).clamp(10, 3600);
        Ok(Some((format!("Bearer {token}"), Instant::now() + Duration::from_secs(lifetime - 5))))
    }

    async fn request(
        &self,
        method: Method,
        url: &str,
        accept: &str,
        authorization: Option<&str>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), RegistryError> {
        let mut request = Request::builder().method(method).uri(url).header(header::ACCEPT, accept);
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
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
