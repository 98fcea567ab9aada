//! The OpenAPI document at `/api/openapi.json`: served publicly, lists every
//! route, its examples are real wire data, and its references resolve.

// Only `start` and `url` are needed here.
#[allow(dead_code)]
mod common;

use common::TestServer;
use serde_json::Value;

/// Every route, as `(method, path)`, relative to the server root.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/login"),
    ("get", "/api/me"),
    ("get", "/api/grids"),
    ("get", "/api/grids/{id}"),
    ("get", "/api/buildings/{id}"),
    ("get", "/api/households/{id}"),
    ("get", "/api/residents/{id}"),
    ("post", "/api/sync/push"),
    ("get", "/api/sync/pull"),
    ("put", "/api/users/{username}/grids"),
    ("put", "/api/photos/{hash}"),
    ("get", "/api/photos/{hash}"),
    ("get", "/api/photos/{hash}/thumb"),
    ("get", "/api/openapi.json"),
    ("get", "/healthz"),
];

async fn fetch_document(server: &TestServer) -> Value {
    // No session: the document is public.
    let response = reqwest::get(server.url("/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    serde_json::from_str(&response.text().await.unwrap()).expect("the document is JSON")
}

/// `(method, path)` of each `.route(…)` in `server/src/api.rs`, so a new route
/// without a line in [`ROUTES`] (and the document) fails here.
fn routes_in_api_rs() -> Vec<(String, String)> {
    let source = include_str!("../src/api.rs");
    source
        .split(".route(\"")
        .skip(1)
        .map(|rest| {
            let path = &rest[..rest.find('"').expect("route path ends")];
            // The first method router named after the path is the route's.
            let method = ["get(", "post(", "put("]
                .into_iter()
                .filter_map(|m| rest.find(m).map(|at| (at, m.trim_end_matches('('))))
                .min()
                .unwrap_or_else(|| panic!("no method for route {path}"))
                .1;
            (method.to_owned(), format!("/api{path}"))
        })
        .collect()
}

#[tokio::test]
async fn the_document_is_served_and_lists_every_route() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Gridwalk API");
    assert_eq!(doc["components"]["securitySchemes"]["session"]["name"], "gw_session");

    for (method, path) in routes_in_api_rs() {
        assert!(
            ROUTES.contains(&(method.as_str(), path.as_str())),
            "{method} {path} is routed in api.rs but not listed in this test"
        );
    }
    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in ROUTES {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the document"))[*method];
        assert!(operation.is_object(), "{method} {path} missing from the document");
        assert!(
            operation["responses"]["200"].is_object(),
            "{method} {path} has no 200 response"
        );
    }
    let routed: std::collections::HashSet<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    assert_eq!(
        paths.len(),
        routed.len(),
        "the document lists a path that is not routed"
    );
}

#[tokio::test]
async fn the_examples_are_real_wire_data() {
    let server = TestServer::start().await;
    let doc = fetch_document(&server).await;
    let schemas = &doc["components"]["schemas"];

    let example = schemas["PushRequest"]["example"].clone();
    let push: app::sync::PushRequest = serde_json::from_value(example.clone()).expect("PushRequest example");
    // Nothing in an example is dropped or renamed on the way through the type.
    assert_eq!(serde_json::to_value(&push).unwrap(), example);
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

    let example = schemas["PullResponse"]["example"].clone();
    let pull: app::sync::PullResponse = serde_json::from_value(example.clone()).expect("PullResponse example");
    assert_eq!(pull.records.len(), 5, "one record of each entity");
    assert_eq!(serde_json::to_value(&pull).unwrap(), example);

    let results = schemas["PushResponse"]["example"].clone();
    serde_json::from_value::<app::sync::PushResponse>(results).expect("PushResponse example");
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
