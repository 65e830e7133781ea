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

async fn private(State((seen, base)): State<(Seen, String)>, uri: Uri, headers: HeaderMap) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    seen.0.lock().expect("seen").push(format!("{} {authorization}", uri.path()));
    // alice:s3cret
    let alice = "Basic YWxpY2U6czNjcmV0";
    match uri.path() {
        "/token" if authorization == alice => {
            axum::Json(serde_json::json!({"access_token": "private"})).into_response()
        }
        "/token" => StatusCode::UNAUTHORIZED.into_response(),
        // A registry with Basic authentication itself.
        p if p.starts_with("/v2/basic/") && authorization == alice => {
            (StatusCode::OK, [("docker-content-digest", DIGEST)]).into_response()
        }
        p if p.starts_with("/v2/basic/") => {
            (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"registry\"")]).into_response()
        }
        _ if authorization == "Bearer private" => (StatusCode::OK, [("docker-content-digest", DIGEST)]).into_response(),
        _ => {
            let challenge = format!("Bearer realm=\"{base}/token\",service=\"registry.test\"");
            (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)]).into_response()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_registries_are_pulled_with_the_credentials_of_a_docker_config() {
    use gatehouse_signatures::Credentials;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let host = listener.local_addr().expect("address").to_string();
    let seen = Seen::default();
    let app = axum::Router::new().fallback(private).with_state((seen.clone(), format!("http://{host}")));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let anonymous = Registry::new(vec![host.clone()], std::time::Duration::from_secs(5)).expect("client");
    let image = Reference::parse(&format!("{host}/acme/web:v1")).expect("reference");
    let error = anonymous.manifest_digest(&image).await.expect_err("the token service refuses anonymous pulls");
    assert!(error.to_string().contains("401"), "{error}");

    // One entry as `auth`, as docker login writes it; another as username and password.
    let config = format!(
        r#"{{"auths": {{"{host}": {{"auth": "YWxpY2U6czNjcmV0"}}, "https://index.docker.io/v1/": {{"username": "bob", "password": "x"}}}}}}"#
    );
    let credentials = Credentials::from_docker_config(&config).expect("config");
    let registry = anonymous.with_credentials(credentials);
    assert_eq!(registry.manifest_digest(&image).await.expect("bearer with credentials").as_str(), DIGEST);
    let basic = Reference::parse(&format!("{host}/basic/web:v1")).expect("reference");
    assert_eq!(registry.manifest_digest(&basic).await.expect("basic").as_str(), DIGEST);
    let seen = seen.0.lock().expect("seen").clone();
    assert!(
        seen.contains(&"/token Basic YWxpY2U6czNjcmV0".to_string()),
        "the token is asked with the credentials: {seen:?}"
    );
    assert!(seen.contains(&"/v2/basic/web/manifests/v1 Basic YWxpY2U6czNjcmV0".to_string()), "{seen:?}");

    for (text, why) in [("{}", "auths"), ("[", "not a Docker config"), (r#"{"auths": {"r": {}}}"#, "neither auth")] {
        let error = Credentials::from_docker_config(text).expect_err(text);
        assert!(error.contains(why), "{text}: {error}");
    }
}
