//! The bearer-token challenge public registries answer anonymous pulls with (Docker Hub, GHCR):
//! a 401 names the token service, the token is fetched for the repository's pull scope, sent
//! with the call, and reused for the next ones.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use gatehouse_signatures::{Reference, Registry};

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn serve(
    State((seen, base)): State<(Seen, String)>,
    uri: Uri,
    headers: HeaderMap,
    query: Query<BTreeMap<String, String>>,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    seen.0.lock().expect("seen").push(format!("{} {authorization}", uri));
    if uri.path() == "/token" {
        let granted = query.get("scope").map(String::as_str) == Some("repository:acme/web:pull")
            && query.get("service").map(String::as_str) == Some("registry.test");
        return if granted {
            axum::Json(serde_json::json!({"token": "t0k3n", "expires_in": 300})).into_response()
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
    }
    if authorization != "Bearer t0k3n" {
        let challenge =
            format!("Bearer realm=\"{base}/token\",service=\"registry.test\",scope=\"repository:acme/web:pull\"");
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)]).into_response();
    }
    (StatusCode::OK, [("docker-content-digest", DIGEST)]).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_challenge_is_answered_with_a_pull_token_that_is_reused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let host = listener.local_addr().expect("address").to_string();
    let seen = Seen::default();
    let app = axum::Router::new().fallback(serve).with_state((seen.clone(), format!("http://{host}")));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let registry = Registry::new(vec![host.clone()], std::time::Duration::from_secs(5)).expect("client");
    let image = Reference::parse(&format!("{host}/acme/web:v1")).expect("reference");
    for _ in 0..2 {
        assert_eq!(registry.manifest_digest(&image).await.expect("digest").as_str(), DIGEST);
    }
    let seen = seen.0.lock().expect("seen").clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], "/v2/acme/web/manifests/v1 -");
    assert!(seen[1].starts_with("/token?scope=repository:acme/web:pull&service=registry.test -"), "{seen:?}");
    assert_eq!(seen[2], "/v2/acme/web/manifests/v1 Bearer t0k3n");
    assert_eq!(seen[3], "/v2/acme/web/manifests/v1 Bearer t0k3n", "the token is reused");
}
