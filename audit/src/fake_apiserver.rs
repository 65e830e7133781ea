//! An HTTP server that answers as a kube-apiserver does for what the audit uses: legacy
//! discovery, paginated lists (`limit`, `continue`, `resourceVersion`, `remainingItemCount`,
//! items without `apiVersion`/`kind`), `labelSelector` equality, get, create, replace with
//! optimistic concurrency (409 on a stale resourceVersion), server-side apply and delete, and
//! watches (`watch=true` from a `resourceVersion`, with `timeoutSeconds`, and `410 Expired` once
//! that version is compacted away), with `Status` bodies for errors. Tests inject failures per
//! request, cut or expire the open watches, take the whole server down and up again, and read
//! the request log.
//!
//! Built only with the `fake-apiserver` feature, for this workspace's tests.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A kind the server serves.
#[derive(Debug, Clone)]
pub struct Served {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Served {
    pub fn new(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> Served {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        Served { group: group.into(), version: version.into(), kind: kind.into(), plural: plural.into(), namespaced }
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// A failure to answer instead of the real response: to the `nth` request (counting from 0)
/// whose line matches `matching` (`*` matches anything).
#[derive(Debug, Clone)]
pub struct Fault {
    pub matching: String,
    pub nth: usize,
    pub code: u16,
    seen: usize,
}

impl Fault {
    /// Whether a request line (`GET /path?query`) has the pieces of `matching` (split at `*`)
    /// in order.
    fn matches(&self, line: &str) -> bool {
        let mut rest = line;
        for piece in self.matching.split('*') {
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }

    pub fn new(matching: &str, nth: usize, code: u16) -> Fault {
        Fault { matching: matching.into(), nth, code, seen: 0 }
    }
}

/// A change of one object, as a watch reports it.
#[derive(Debug, Clone)]
struct Change {
    revision: u64,
    key: (String, String),
    namespace: Option<String>,
    kind: &'static str,
    object: Value,
}

#[derive(Debug, Default)]
struct Store {
    served: Vec<Served>,
    /// Objects by (group, plural), in creation order.
    objects: BTreeMap<(String, String), Vec<Value>>,
    revision: u64,
    /// Every change, in order; watches from a revision below `compacted` get `410 Expired`.
    changes: Vec<Change>,
    compacted: u64,
    /// While set, every request is answered with this status and no watch stays open.
    outage: Option<u16>,
    open_watches: BTreeMap<(String, String), usize>,
    faults: Vec<Fault>,
    log: Vec<String>,
}

impl Store {
    fn record(&mut self, key: (String, String), kind: &'static str, object: &Value) {
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
        self.changes.push(Change { revision: self.revision, key, namespace, kind, object: object.clone() });
    }

    /// Stores `object` (its resourceVersion already set) in place of the one of its namespace
    /// and name, or as a new one, and records the change.
    fn upsert(&mut self, key: (String, String), object: &Value) {
        let list = self.objects.entry(key.clone()).or_default();
        let same = |o: &Value| {
            o["metadata"]["name"] == object["metadata"]["name"]
                && o["metadata"]["namespace"] == object["metadata"]["namespace"]
        };
        let change = match list.iter().position(same) {
            Some(i) => {
                list[i] = object.clone();
                "MODIFIED"
            }
            None => {
                list.push(object.clone());
                "ADDED"
            }
        };
        self.record(key, change, object);
    }

    /// Removes the object of that name (in that namespace, when given) as a new revision;
    /// whether there was one.
    fn remove(&mut self, key: (String, String), namespace: Option<&str>, name: &str) -> bool {
        let list = self.objects.entry(key.clone()).or_default();
        let found = list.iter().position(|o| {
            o["metadata"]["name"] == name && namespace.is_none_or(|ns| o["metadata"]["namespace"].as_str() == Some(ns))
        });
        let Some(at) = found else { return false };
        let mut deleted = list.remove(at);
        self.revision += 1;
        deleted["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.record(key, "DELETED", &deleted);
        true
    }
}

/// What the open watches are told.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Changed,
    /// End, as a server that closes a watch (or goes away) does.
    Cut,
    /// Send `410 Expired` and end: the watched revision was compacted.
    Expire,
}

/// The server's state; clones share it.
#[derive(Debug, Clone)]
pub struct FakeApiServer {
    store: Arc<Mutex<Store>>,
    signals: tokio::sync::broadcast::Sender<Signal>,
}

impl Default for FakeApiServer {
    fn default() -> FakeApiServer {
        FakeApiServer { store: Arc::default(), signals: tokio::sync::broadcast::channel(1024).0 }
    }
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body)).into_response()
}

fn query_map(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeApiServer {
    pub fn new(served: Vec<Served>) -> FakeApiServer {
        let server = FakeApiServer::default();
        lock(&server.store).served = served;
        server
    }

    /// Adds an object (with `apiVersion`, `kind`, `metadata.name`, and `metadata.namespace`
    /// for a namespaced kind), or replaces the one of its name; the server gives it a uid and a
    /// resourceVersion, and open watches see it.
    pub fn add(&self, object: Value) {
        let mut store = lock(&self.store);
        let api_version = object["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let Some(served) = store.served.iter().find(|s| s.api_version() == api_version && s.kind == kind).cloned()
        else {
            panic!("the fake API server does not serve {kind} ({api_version})");
        };
        store.revision += 1;
        let mut object = object;
        let revision = store.revision;
        object["metadata"]["resourceVersion"] = json!(revision.to_string());
        object["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{revision:012}"));
        store.upsert((served.group, served.plural), &object);
        drop(store);
        let _ = self.signals.send(Signal::Changed);
    }

    /// Deletes an object, as a DELETE does; open watches see it go.
    pub fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let mut store = lock(&self.store);
        let Some(served) = store.served.iter().find(|s| s.api_version() == api_version && s.kind == kind).cloned()
        else {
            panic!("the fake API server does not serve {kind} ({api_version})");
        };
        if !store.remove((served.group, served.plural), namespace, name) {
            panic!("no {kind} {name} to delete");
        }
        drop(store);
        let _ = self.signals.send(Signal::Changed);
    }

    /// Takes the server down (every request answered with `code`, open watches ended) or, with
    /// `None`, up again.
    pub fn outage(&self, code: Option<u16>) {
        lock(&self.store).outage = code;
        if code.is_some() {
            let _ = self.signals.send(Signal::Cut);
        }
    }

    /// Ends the open watches without an error, as a server does at their timeout.
    pub fn cut_watches(&self) {
        let _ = self.signals.send(Signal::Cut);
    }

    /// Compacts the history: open watches get `410 Expired`, and so do watches from any
    /// revision before the current one.
    pub fn expire_watches(&self) {
        let mut store = lock(&self.store);
        store.compacted = store.revision;
        drop(store);
        let _ = self.signals.send(Signal::Expire);
    }

    /// How many watches of a kind (by group and plural) are open.
    pub fn watches_open(&self, group: &str, plural: &str) -> usize {
        lock(&self.store).open_watches.get(&(group.to_string(), plural.to_string())).copied().unwrap_or(0)
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.store).faults.push(fault);
    }

    /// Every request, as `METHOD path?query`.
    pub fn log(&self) -> Vec<String> {
        lock(&self.store).log.clone()
    }

    /// The stored objects of a kind (by group and plural).
    pub fn objects(&self, group: &str, plural: &str) -> Vec<Value> {
        lock(&self.store).objects.get(&(group.to_string(), plural.to_string())).cloned().unwrap_or_default()
    }

    /// Serves on a loopback port until the runtime stops; returns the base URL.
    pub async fn start(&self) -> String {
        let app = axum::Router::new().fallback(handle).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap_or_else(|e| panic!("binding the fake API server: {e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{address}")
    }

    /// A client of the server.
    pub fn client(url: &str) -> kube::Client {
        let config = kube::Config::new(url.parse().unwrap_or_else(|e| panic!("{url}: {e}")));
        kube::Client::try_from(config).unwrap_or_else(|e| panic!("a client of {url}: {e}"))
    }
}

async fn handle(State(server): State<FakeApiServer>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let line = format!("{method} {}", uri.path_and_query().map(ToString::to_string).unwrap_or(path.clone()));
    let mut store = lock(&server.store);
    store.log.push(line.clone());
    if let Some(code) = store.outage {
        return status(code, "InternalError", "etcdserver: request timed out (injected outage)");
    }
    let mut fired = None;
    for fault in store.faults.iter_mut().filter(|f| f.matches(&line)) {
        fault.seen += 1;
        if fault.seen == fault.nth + 1 && fired.is_none() {
            fired = Some(fault.code);
        }
    }
    if let Some(code) = fired {
        let reason = match code {
            410 => "Expired",
            403 => "Forbidden",
            429 => "TooManyRequests",
            _ => "InternalError",
        };
        return status(code, reason, &format!("injected fault for {line}"));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let response = match segments.as_slice() {
        ["api"] => axum::Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
            .into_response(),
        ["apis"] => axum::Json(group_list(&store)).into_response(),
        ["api", version] => axum::Json(resource_list(&store, "", version)).into_response(),
        ["apis", group, version] => axum::Json(resource_list(&store, group, version)).into_response(),
        ["api", version, rest @ ..] => resource(&server, &mut store, "", version, rest, &method, &uri, &body),
        ["apis", group, version, rest @ ..] => {
            resource(&server, &mut store, group, version, rest, &method, &uri, &body)
        }
        _ => status(404, "NotFound", &format!("the server could not find the requested resource {path}")),
    };
    drop(store);
    if method != Method::GET {
        let _ = server.signals.send(Signal::Changed);
    }
    response
}

fn group_list(store: &Store) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in store.served.iter().filter(|s| !s.group.is_empty()) {
        let versions = groups.entry(&s.group).or_default();
        if !versions.contains(&s.version.as_str()) {
            versions.push(&s.version);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(store: &Store, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = store
        .served
        .iter()
        .filter(|s| s.group == group && s.version == version)
        .map(|s| {
            json!({
                "name": s.plural, "singularName": s.kind.to_lowercase(), "namespaced": s.namespaced,
                "kind": s.kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            })
        })
        .collect();
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn labels_match(object: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| match term.split_once('=') {
        Some((k, v)) => object["metadata"]["labels"][k].as_str() == Some(v),
        None => false,
    })
}

#[allow(clippy::too_many_arguments)]
fn resource(
    server: &FakeApiServer,
    store: &mut Store,
    group: &str,
    version: &str,
    rest: &[&str],
    method: &Method,
    uri: &Uri,
    body: &Bytes,
) -> Response {
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return status(404, "NotFound", "no such path"),
    };
    let Some(served) =
        store.served.iter().find(|s| s.group == group && s.version == version && s.plural == plural).cloned()
    else {
        return status(404, "NotFound", &format!("the server could not find the requested resource ({plural})"));
    };
    let key = (group.to_string(), plural.to_string());
    let in_scope = |o: &Value| namespace.is_none_or(|ns| o["metadata"]["namespace"].as_str() == Some(ns));
    match (method.clone(), name) {
        (Method::GET, None) if query_map(uri).get("watch").is_some_and(|w| w == "true" || w == "1") => {
            watch(server, store, key, namespace, &query_map(uri))
        }
        (Method::GET, None) => {
            let query = query_map(uri);
            let selector = query.get("labelSelector").cloned().unwrap_or_default();
            let all: Vec<&Value> = store
                .objects
                .get(&key)
                .map(|v| v.iter().filter(|o| in_scope(o) && labels_match(o, &selector)).collect())
                .unwrap_or_default();
            // A continue token holds the snapshot's revision and the offset.
            let (snapshot, offset) = match query.get("continue") {
                Some(token) => {
                    let Some((rv, offset)) = token.split_once(':') else {
                        return status(400, "BadRequest", "malformed continue token");
                    };
                    (rv.parse().unwrap_or(0), offset.parse().unwrap_or(0))
                }
                None => (store.revision, 0usize),
            };
            let visible: Vec<&Value> = all
                .into_iter()
                .filter(|o| {
                    o["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse::<u64>().ok()) <= Some(snapshot)
                })
                .collect();
            let limit =
                query.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|&l| l > 0).unwrap_or(usize::MAX);
            let end = offset.saturating_add(limit).min(visible.len());
            let items: Vec<Value> = visible[offset.min(end)..end]
                .iter()
                .map(|o| {
                    let mut item = (*o).clone();
                    if let Some(map) = item.as_object_mut() {
                        map.remove("apiVersion");
                        map.remove("kind");
                    }
                    item
                })
                .collect();
            let mut metadata = json!({"resourceVersion": snapshot.to_string()});
            if end < visible.len() {
                metadata["continue"] = json!(format!("{snapshot}:{end}"));
                metadata["remainingItemCount"] = json!(visible.len() - end);
            }
            axum::Json(json!({"kind": format!("{}List", served.kind), "apiVersion": served.api_version(), "metadata": metadata, "items": items}))
                .into_response()
        }
        (Method::GET, Some(name)) => {
            let found =
                store.objects.get(&key).and_then(|v| v.iter().find(|o| in_scope(o) && o["metadata"]["name"] == name));
            match found {
                Some(o) => axum::Json(o.clone()).into_response(),
                None => status(404, "NotFound", &format!("{plural} \"{name}\" not found")),
            }
        }
        (Method::DELETE, Some(name)) => {
            if !store.remove(key, namespace, name) {
                return status(404, "NotFound", &format!("{plural} \"{name}\" not found"));
            }
            axum::Json(json!({"kind": "Status", "apiVersion": "v1", "status": "Success"})).into_response()
        }
        (Method::POST | Method::PUT | Method::PATCH, _) => {
            let Ok(mut object) = serde_json::from_slice::<Value>(body) else {
                return status(400, "BadRequest", "the body is not JSON");
            };
            let name = name.map(str::to_string).or_else(|| object["metadata"]["name"].as_str().map(str::to_string));
            let Some(name) = name else { return status(422, "Invalid", "metadata.name is required") };
            object["apiVersion"] = json!(served.api_version());
            object["kind"] = json!(served.kind);
            object["metadata"]["name"] = json!(name);
            if let Some(ns) = namespace {
                object["metadata"]["namespace"] = json!(ns);
            }
            store.revision += 1;
            let revision = store.revision;
            let list = store.objects.entry(key.clone()).or_default();
            let existing = list.iter().position(|o| in_scope(o) && o["metadata"]["name"] == name.as_str());
            match (method.clone(), existing) {
                (Method::POST, Some(_)) => status(409, "AlreadyExists", &format!("{plural} \"{name}\" already exists")),
                (Method::PUT, None) => status(404, "NotFound", &format!("{plural} \"{name}\" not found")),
                (Method::PUT, Some(i)) => {
                    let sent = object["metadata"]["resourceVersion"].as_str().map(str::to_string);
                    if sent.is_some() && sent.as_deref() != list[i]["metadata"]["resourceVersion"].as_str() {
                        return status(
                            409,
                            "Conflict",
                            &format!(
                                "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified"
                            ),
                        );
                    }
                    object["metadata"]["resourceVersion"] = json!(revision.to_string());
                    list[i] = object.clone();
                    store.record(key, "MODIFIED", &object);
                    axum::Json(object).into_response()
                }
                _ => {
                    object["metadata"]["resourceVersion"] = json!(revision.to_string());
                    store.upsert(key, &object);
                    (StatusCode::CREATED, axum::Json(object)).into_response()
                }
            }
        }
        _ => status(405, "MethodNotAllowed", "method not allowed"),
    }
}

/// An open watch: what it has sent, and what it still has to.
struct Watch {
    server: FakeApiServer,
    key: (String, String),
    namespace: Option<String>,
    sent_through: u64,
    signals: tokio::sync::broadcast::Receiver<Signal>,
    until: tokio::time::Instant,
    backlog: VecDeque<String>,
    /// End once the backlog is sent.
    ending: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(open) = lock(&self.server.store).open_watches.get_mut(&self.key) {
            *open = open.saturating_sub(1);
        }
    }
}

fn event_line(kind: &str, object: &Value) -> String {
    json!({"type": kind, "object": object}).to_string()
}

fn expired_line(from: u64) -> String {
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("too old resource version: {from}"), "reason": "Expired", "code": 410});
    event_line("ERROR", &status)
}

impl Watch {
    /// Queues the changes of this watch's objects after `sent_through`.
    fn catch_up(&mut self, store: &Store) {
        let namespace = self.namespace.as_deref();
        for change in store.changes.iter().filter(|c| c.revision > self.sent_through && c.key == self.key) {
            if namespace.is_none_or(|ns| change.namespace.as_deref() == Some(ns)) {
                self.backlog.push_back(event_line(change.kind, &change.object));
            }
        }
        self.sent_through = store.revision;
    }

    async fn next_line(mut self) -> Option<(Result<Bytes, std::convert::Infallible>, Watch)> {
        loop {
            if let Some(line) = self.backlog.pop_front() {
                return Some((Ok(Bytes::from(line + "\n")), self));
            }
            if self.ending {
                return None;
            }
            // The lock is let go before returning: dropping the watch takes it again.
            let shared = Arc::clone(&self.server.store);
            let down = {
                let store = lock(&shared);
                let down = store.outage.is_some();
                if !down {
                    self.catch_up(&store);
                }
                down
            };
            if down {
                return None;
            }
            if !self.backlog.is_empty() {
                continue;
            }
            match tokio::time::timeout_at(self.until, self.signals.recv()).await {
                Err(_) => return None,
                Ok(Ok(Signal::Changed) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Ok(Signal::Cut) | Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
                Ok(Ok(Signal::Expire)) => {
                    self.backlog.push_back(expired_line(self.sent_through));
                    self.ending = true;
                }
            }
        }
    }
}

/// A watch from `resourceVersion` (from the current objects, as `ADDED`, without one), ended
/// after `timeoutSeconds`.
fn watch(
    server: &FakeApiServer,
    store: &mut Store,
    key: (String, String),
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Response {
    let from = query.get("resourceVersion").and_then(|r| r.parse::<u64>().ok()).filter(|&r| r > 0);
    let seconds = query.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(1800);
    *store.open_watches.entry(key.clone()).or_default() += 1;
    let mut watch = Watch {
        server: server.clone(),
        key,
        namespace: namespace.map(str::to_string),
        sent_through: 0,
        signals: server.signals.subscribe(),
        until: tokio::time::Instant::now() + Duration::from_secs(seconds),
        backlog: VecDeque::new(),
        ending: false,
    };
    match from {
        Some(from) if from < store.compacted => {
            watch.backlog.push_back(expired_line(from));
            watch.ending = true;
        }
        Some(from) => {
            watch.sent_through = from;
            watch.catch_up(store);
        }
        None => {
            for object in store.objects.get(&watch.key).into_iter().flatten() {
                if watch.namespace.as_deref().is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns)) {
                    watch.backlog.push_back(event_line("ADDED", object));
                }
            }
            watch.sent_through = store.revision;
        }
    }
    let lines = futures::stream::unfold(watch, Watch::next_line);
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|e| status(500, "InternalError", &e.to_string()))
}
