//! The OpenAPI document at `/api/openapi.json`, generated from the handlers
//! (server/src/openapi.rs): served publicly, describing exactly the routes the
//! router has, with examples that are real wire data and references that
//! resolve. Requests built from it, good and bad, are answered with a status
//! it lists for the operation, and never with a 500.

// Only some of the helpers are needed here.
#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;

use common::{TestServer, new_id};
use serde_json::Value;
use sha2::{Digest, Sha256};

async fn fetch_document(server: &TestServer) -> Value {
    // No session: the document is public.
    let response = reqwest::get(server.url("/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    serde_json::from_str(&response.text().await.unwrap()).expect("the document is JSON")
}

/// Every `(METHOD, path)` the document describes.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item");
            methods
                .iter()
                .map(move |(method, operation)| (method.to_uppercase(), path.clone(), operation))
        })
        .collect()
}

#[tokio::test]
async fn the_document_describes_exactly_the_routes_the_router_has() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Gridwalk API");
    assert_eq!(doc["components"]["securitySchemes"]["session"]["name"], "gw_session");

    // The router's own record of what it answers (`Server::routes`), not a
    // reading of the source: a route added anywhere under /api shows up.
    let routed: BTreeSet<(String, String)> = server
        .routes
        .iter()
        .filter(|route| route.path.starts_with("/api/") || route.path == "/healthz")
        .map(|route| (route.method.to_string(), route.path.clone()))
        .collect();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    assert!(routed.len() >= 15, "only {} API routes found", routed.len());
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the document (add #[utoipa::path] to the handler and list it in \
         server/src/openapi.rs): {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(unrouted.is_empty(), "in the document but not routed: {unrouted:?}");

    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} has no success response"
        );
        assert!(operation["tags"].is_array(), "{method} {path} has no tag");
    }
}

#[tokio::test]
async fn the_examples_are_real_wire_data() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    let schemas = &doc["components"]["schemas"];
    let example = |name: &str| schemas[name]["examples"][0].clone();

    let push_example = example("PushRequest");
    let push: app::sync::PushRequest = serde_json::from_value(push_example.clone()).expect("PushRequest example");
    // Nothing in an example is dropped or renamed on the way through the type.
    assert_eq!(serde_json::to_value(&push).unwrap(), push_example);
    assert!(matches!(
        push.operations.as_slice(),
        [app::sync::Operation {
            change: app::sync::Change::RecordVisit(_),
            ..
        }]
    ));
    for id in std::iter::once(&push.device_id).chain(push.operations.iter().map(|op| &op.op_id)) {
        uuid::Uuid::try_parse(id).unwrap_or_else(|_| panic!("{id} is not a UUID"));
    }

    let pull_example = example("PullResponse");
    let pull: app::sync::PullResponse = serde_json::from_value(pull_example.clone()).expect("PullResponse example");
    assert_eq!(
        pull.records.len(),
        5,
        "a building, a household, a resident, a visit, a request"
    );
    assert_eq!(serde_json::to_value(&pull).unwrap(), pull_example);

    serde_json::from_value::<app::sync::PushResponse>(example("PushResponse")).expect("PushResponse example");
    let stored = example("StoredPhoto");
    assert_eq!(stored["created"], true, "{stored}");
}

#[tokio::test]
async fn every_reference_resolves() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} references found", refs.len());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is not local"));
        assert!(
            pointer.starts_with("/components/"),
            "{reference} does not point to a component"
        );
        assert!(doc.pointer(pointer).is_some(), "{reference} points nowhere");
    }
}

/// Every `$ref`, and every schema named in a discriminator mapping.
fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => refs.push(target.clone()),
                    ("mapping", Value::Object(mapping)) => {
                        refs.extend(mapping.values().filter_map(Value::as_str).map(str::to_owned))
                    }
                    _ => collect_refs(value, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

/// Real records of the demo street, for path parameters that name something.
struct Fixture {
    grid: String,
    building: String,
    household: String,
    resident: String,
    /// A photo worker1 uploaded and so may see.
    photo: String,
    photo_bytes: Vec<u8>,
}

impl Fixture {
    async fn new(server: &TestServer, worker: &reqwest::Client) -> Fixture {
        let grids = server.get_json(worker, "/api/grids").await;
        let grid = grids[0]["id"].as_str().expect("worker1 has a grid").to_owned();
        let detail = server.get_json(worker, &format!("/api/grids/{grid}")).await;
        let building = detail["buildings"][0]["id"].as_str().expect("a building").to_owned();
        let grid_name = detail["name"].as_str().expect("a grid name");
        let (household, resident) = server.household_in(grid_name).await;
        let photo_bytes = png();
        let photo = format!("{:x}", Sha256::digest(&photo_bytes));
        let upload = worker
            .put(server.url(&format!("/api/photos/{photo}")))
            .body(photo_bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 201, "the fixture's photo is stored");
        Fixture {
            grid,
            building,
            household,
            resident,
            photo,
            photo_bytes,
        }
    }

    /// A real value for a path parameter; a route with a parameter this
    /// does not know fails here, so a new route gets fixtures too.
    fn value(&self, path: &str, name: &str) -> String {
        let record = |prefix: &str| path.starts_with(prefix);
        match name {
            "id" if record("/api/grids/") => self.grid.clone(),
            "id" if record("/api/buildings/") => self.building.clone(),
            "id" if record("/api/households/") => self.household.clone(),
            "id" if record("/api/residents/") => self.resident.clone(),
            "hash" => self.photo.clone(),
            "username" => "worker2".into(),
            _ => panic!("no fixture for the parameter {name} of {path}"),
        }
    }
}

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Values the document says a parameter may or may not take: the first is
/// well-formed, the rest are not, or name nothing.
fn wrong_values(schema: &Value) -> Vec<String> {
    let mut values = match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("integer"), _) => vec!["-1".into(), "x".into(), "99999999999999999999999".into()],
        (_, Some("uuid")) => vec![new_id(), "not-a-uuid".into()],
        (Some("string"), _) if schema["pattern"].is_string() => vec!["0".repeat(64), "abc".into()],
        _ => vec!["no-such-thing".into(), "%E4%B8%8D".into()],
    };
    if let Some(maximum) = schema["maximum"].as_i64() {
        values.push((maximum + 1).to_string());
    }
    values
}

/// A request body: its content type and bytes (`None`: no body at all).
type Body = Option<(String, Vec<u8>)>;

/// Bodies for an operation: a good one (the document's example, or the
/// fixture's photo), then the bad kinds every body must survive.
fn bodies(doc: &Value, operation: &Value, fixture: &Fixture) -> Vec<Body> {
    let Some(content) = operation["requestBody"]["content"].as_object() else {
        return vec![None];
    };
    let oversized = vec![b'7'; 1024 * 1024 + 1];
    let mut bodies = Vec::new();
    for (content_type, media) in content {
        let with = |bytes: Vec<u8>| Some((content_type.clone(), bytes));
        if content_type == "application/json" {
            let example = media["example"].clone();
            let example = if example.is_null() {
                let reference = media["schema"]["$ref"].as_str().expect("a JSON body names its schema");
                doc.pointer(&reference[1..]).expect("schema")["examples"][0].clone()
            } else {
                example
            };
            assert!(!example.is_null(), "no example for {content_type} {operation}");
            bodies.extend([
                with(example.to_string().into_bytes()),
                with(b"{}".to_vec()),
                with(b"[]".to_vec()),
                with(b"\"text\"".to_vec()),
                with(b"not json".to_vec()),
                with(oversized.clone()),
            ]);
        } else {
            assert!(content_type.starts_with("image/"), "no body for {content_type}");
            bodies.extend([
                with(fixture.photo_bytes.clone()),
                with(b"not an image".to_vec()),
                with(oversized.clone()),
            ]);
        }
    }
    bodies.push(None);
    bodies
}

/// One request built from the document.
struct Probe {
    path: String,
    query: Option<(String, String)>,
    body: Body,
    cross_site: bool,
}

/// Each probe on a connection of its own: an answer given before a body was
/// read (401 to an anonymous upload) ends its connection, and a pooled
/// connection would carry that into the next probe.
async fn send(
    server: &TestServer,
    cookie: Option<&str>,
    method: &str,
    probe: &Probe,
) -> reqwest::Result<reqwest::Response> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, server.url(&probe.path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(query) = &probe.query {
        request = request.query(&[query]);
    }
    if let Some((content_type, bytes)) = &probe.body {
        request = request.header("content-type", content_type).body(bytes.clone());
    }
    if probe.cross_site {
        request = request.header("sec-fetch-site", "cross-site");
    }
    request.send().await
}

/// [`send`], again when the answer was lost in transit. A server that answers
/// before it read a large body (401 to an anonymous upload, 413 past a
/// limit) closes the connection with the rest unread, and the kernel may then
/// reset it before the client has read the answer: the client sees a broken
/// connection, not the status. That is the transport, not the route, so the
/// probe is sent again (its answer does not depend on the try).
async fn send_answered(
    server: &TestServer,
    cookie: Option<&str>,
    method: &str,
    probe: &Probe,
) -> reqwest::Result<reqwest::Response> {
    let mut tries = 0;
    loop {
        match send(server, cookie, method, probe).await {
            Err(_) if probe.body.is_some() && tries < 4 => tries += 1,
            answer => return answer,
        }
    }
}

#[tokio::test]
async fn requests_built_from_the_document_get_a_status_it_lists() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    // Signed in before the login route is probed: its wrong passwords may
    // lock the name.
    let worker = server.login_as("worker1").await;
    let fixture = Fixture::new(&server, &worker).await;
    let callers = [
        ("anonymous", None),
        ("worker1", Some(server.session_cookie("worker1").await)),
        ("admin", Some(server.session_cookie("admin").await)),
    ];

    let mut sent = 0;
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let listed: BTreeSet<u16> = operation["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(|status| status.parse().expect("a numeric status"))
            .collect();
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let in_path = |name: &str| format!("{{{name}}}");
        let good_path = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .fold(path.clone(), |built, p| {
                let name = p["name"].as_str().unwrap();
                built.replace(&in_path(name), &fixture.value(&path, name))
            });
        let bodies = bodies(&doc, operation, &fixture);
        let good_body = bodies[0].clone();
        let probe = |path: String, query, body| Probe {
            path,
            query,
            body,
            cross_site: false,
        };

        let mut probes = vec![probe(good_path.clone(), None, good_body.clone())];
        for parameter in &parameters {
            let name = parameter["name"].as_str().unwrap();
            for value in wrong_values(&parameter["schema"]) {
                probes.push(match parameter["in"].as_str() {
                    Some("path") => {
                        // This parameter wrong, the others right.
                        let built = parameters
                            .iter()
                            .filter(|p| p["in"] == "path")
                            .fold(path.clone(), |built, p| {
                                let other = p["name"].as_str().unwrap();
                                let value = if other == name {
                                    value.clone()
                                } else {
                                    fixture.value(&path, other)
                                };
                                built.replace(&in_path(other), &value)
                            });
                        probe(built, None, good_body.clone())
                    }
                    Some("query") => probe(good_path.clone(), Some((name.to_owned(), value)), good_body.clone()),
                    other => panic!("a parameter in {other:?}"),
                });
            }
        }
        probes.extend(
            bodies
                .into_iter()
                .skip(1)
                .map(|body| probe(good_path.clone(), None, body)),
        );
        if !matches!(method.as_str(), "GET" | "HEAD") {
            probes.push(Probe {
                cross_site: true,
                ..probe(good_path.clone(), None, good_body.clone())
            });
        }

        for (caller, cookie) in &callers {
            for probe in &probes {
                let response = match send_answered(&server, cookie.as_deref(), &method, probe).await {
                    Ok(response) => response,
                    Err(e) => {
                        wrong.push(format!(
                            "{method} {path} as {caller}: {} {:?} → {e}",
                            probe.path,
                            probe.body.as_ref().map(|b| b.1.len())
                        ));
                        continue;
                    }
                };
                let status = response.status().as_u16();
                sent += 1;
                seen.insert(status);
                if status == 500 || !listed.contains(&status) {
                    let body = response.text().await.unwrap_or_default();
                    let body: String = body.chars().take(200).collect();
                    let shown = |body: &Body| body.as_ref().map(|(t, b)| (t.clone(), b.len()));
                    wrong.push(format!(
                        "{method} {path} as {caller}: {} query {:?} body {:?}{} → {status} {body} (listed: {listed:?})",
                        probe.path,
                        probe.query,
                        shown(&probe.body),
                        if probe.cross_site { " cross-site" } else { "" },
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {sent} answers are not listed:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The probes reach past the door: found, refused, missing, malformed.
    for status in [200, 400, 401, 403, 404] {
        assert!(seen.contains(&status), "no probe was answered {status}: {seen:?}");
    }
}
