//! The access matrix: every method and path the router answers, taken from
//! the running server itself (`TestServer::routes`, recorded as the routes
//! were registered), asked by each kind of caller, and held against what the
//! table below says that caller may get. A route added without a line in the
//! table fails this test, and so does a line for a route the server lost.
//!
//! The callers: nobody signed in; a worker whose account was disabled after
//! signing in (and whose grids include the one asked about); a worker of
//! another grid and a lead of another community, asking for this grid's and
//! this community's records; that grid's worker, that community's lead, and
//! the admin. Path parameters are real records of 第1网格 in 春华社区 (or
//! what they lead to); unsafe methods come from this site (`Sec-Fetch-Site`)
//! with a body the route accepts, so an answer says who may, not what the
//! form lacked.

// Shared fixtures; this file does not need every helper.
#[allow(dead_code)]
mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use common::{PASSWORD, TestServer, new_id, routine_visit};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Who asks, in the order they ask each route: the refused first, so that
/// the allowed, whose writes change records, come after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Disabled,
    WorkerOutOfGrid,
    LeadOutOfCommunity,
    MemberOfAnotherHousehold,
    WorkerInGrid,
    LeadInCommunity,
    Admin,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Disabled,
    Caller::WorkerOutOfGrid,
    Caller::LeadOutOfCommunity,
    Caller::MemberOfAnotherHousehold,
    Caller::WorkerInGrid,
    Caller::LeadInCommunity,
    Caller::Admin,
];

/// What a caller gets. `ok`: a read is served (2xx, or a redirect other than
/// to the login page); a write is served or answered about its data (a 409
/// for a name taken, a 410 for a rating code used, a 429 past the public
/// daily limit), never refused (401, 403, 404); `login`: 401, or a page sends
/// one to the login page; a status (`403`; `404` for records out of one's
/// scope, whose existence is not told): exactly that. A server error is
/// never what the matrix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Ok,
    Login,
    Status(u16),
}

impl Access {
    fn parse(word: &str) -> Access {
        match word {
            "ok" => Access::Ok,
            "login" => Access::Login,
            code => Access::Status(
                code.parse()
                    .unwrap_or_else(|_| panic!("unknown access {code:?} in the matrix")),
            ),
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Ok => f.write_str("ok"),
            Access::Login => f.write_str("login"),
            Access::Status(code) => write!(f, "{code}"),
        }
    }
}

/// Every route, one line each: the columns are the callers in `CALLERS`'
/// order — anonymous, disabled, worker of another grid, lead of another
/// community, a party member's account linked to another household of the
/// grid (in another building), the grid's worker, the community's lead, admin.
const MATRIX: &[(&str, &str)] = &[
    // The app's own needs, and signing in and out: anyone.
    ("GET /healthz", "ok ok ok ok ok ok ok ok"),
    ("GET /sw.js", "ok ok ok ok ok ok ok ok"),
    ("GET /shell", "ok ok ok ok ok ok ok ok"),
    ("GET /login", "ok ok ok ok ok ok ok ok"),
    ("POST /login", "ok ok ok ok ok ok ok ok"),
    ("POST /logout", "ok ok ok ok ok ok ok ok"),
    ("POST /api/login", "ok ok ok ok ok ok ok ok"),
    ("GET /api/openapi.json", "ok ok ok ok ok ok ok ok"),
    // The phone: any live account, each its own grids.
    ("GET /", "login login ok ok ok ok ok ok"),
    ("GET /sync", "login login ok ok ok ok ok ok"),
    ("GET /overdue", "login login ok ok ok ok ok ok"),
    ("GET /requests", "login login ok ok ok ok ok ok"),
    ("GET /check-in", "login login ok ok ok ok ok ok"),
    ("GET /api/me", "login login ok ok ok ok ok ok"),
    ("GET /api/grids", "login login ok ok ok ok ok ok"),
    ("GET /api/sync/pull", "login login ok ok ok ok ok ok"),
    ("POST /api/sync/push", "login login ok ok ok ok ok ok"),
    // Attendance lists for the phone: each caller's own communities; not a member's account.
    ("GET /api/activities/check-in", "login login ok ok 403 ok ok ok"),
    ("PUT /api/photos/{hash}", "login login ok ok ok ok ok ok"),
    // A grid's records: its workers, its community's lead, the admin.
    ("GET /grids/{id}", "login login 404 404 ok ok ok ok"),
    ("GET /buildings/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /households/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /residents/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /api/grids/{id}", "login login 404 404 ok ok ok ok"),
    ("GET /api/buildings/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /api/households/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /api/residents/{id}", "login login 404 404 404 ok ok ok"),
    ("GET /api/photos/{hash}", "login login 404 404 403 ok ok ok"),
    ("GET /api/photos/{hash}/thumb", "login login 404 404 403 ok ok ok"),
    // One's own account.
    ("GET /account", "login login ok ok ok ok ok ok"),
    ("GET /account/password", "login login ok ok ok ok ok ok"),
    ("POST /account/password", "login login ok ok ok ok ok ok"),
    ("POST /account/sessions/end", "login login ok ok ok ok ok ok"),
    // Requests (诉求): leads and the admin manage them.
    ("GET /manage/requests", "login login 403 404 403 403 ok ok"),
    ("GET /manage/requests/new", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/requests/new", "login login 403 404 403 403 ok ok"),
    ("GET /manage/requests/{id}", "login login 403 404 403 403 ok ok"),
    ("POST /manage/requests/{id}/act", "login login 403 404 403 403 ok ok"),
    ("GET /manage/requests/figures", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/requests/figures.csv", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/requests/figures.xlsx", "login login 403 ok 403 403 ok ok"),
    (
        "POST /manage/requests/figures/notice",
        "login login 403 ok 403 403 ok ok",
    ),
    ("GET /manage/requests/ledger.csv", "login login 403 404 403 403 ok ok"),
    ("GET /manage/requests/ledger.xlsx", "login login 403 404 403 403 ok ok"),
    ("GET /manage/request-categories", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/request-categories", "login login 403 403 403 403 403 ok"),
    // Notices: their community's lead writes them.
    ("GET /manage/notices", "login login 403 ok 403 403 ok ok"),
    // Another community's id in the form: refused with the form ("请选择社区").
    ("POST /manage/notices", "login login 403 400 403 403 ok ok"),
    ("GET /manage/notices/new", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/notices/{id}", "login login 403 404 403 403 ok ok"),
    ("POST /manage/notices/{id}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/notices/{id}/{action}",
        "login login 403 404 403 403 ok ok",
    ),
    ("POST /manage/notices/{id}/files", "login login 403 404 403 403 ok ok"),
    (
        "GET /manage/notices/{id}/files/{hash}",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/notices/{id}/files/{hash}/delete",
        "login login 403 404 403 403 ok ok",
    ),
    // What residents see, without an account.
    ("GET /n/sw.js", "ok ok ok ok ok ok ok ok"),
    ("GET /n/register.js", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/feed.atom", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/poster.svg", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/{notice}", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/{notice}/files/{hash}", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/requests", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/requests/new", "ok ok ok ok ok ok ok ok"),
    ("POST /n/{community}/requests/new", "ok ok ok ok ok ok ok ok"),
    ("GET /status", "ok ok ok ok ok ok ok ok"),
    ("GET /rate/{token}", "ok ok ok ok ok ok ok ok"),
    ("POST /rate/{token}", "ok ok ok ok ok ok ok ok"),
    // Coverage of a grid (`?grid=`): its workers too; visit policies are
    // read by all, set by the admin.
    ("GET /manage/coverage", "login login 404 404 403 ok ok ok"),
    ("GET /manage/coverage/visits.csv", "login login 404 404 403 ok ok ok"),
    ("GET /manage/coverage/visits.xlsx", "login login 404 404 403 ok ok ok"),
    (
        "GET /manage/coverage/households.csv",
        "login login 404 404 403 ok ok ok",
    ),
    (
        "GET /manage/coverage/households.xlsx",
        "login login 404 404 403 ok ok ok",
    ),
    ("GET /manage/policies", "login login ok ok 403 ok ok ok"),
    ("POST /manage/policies", "login login 403 403 403 403 403 ok"),
    // Staff and territory: a lead their community, the admin all.
    ("GET /manage/users", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/users", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/users/{username}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/users/{username}/reset",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/users/{username}/disable",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/users/{username}/enable",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/users/{username}/grids",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/users/{username}/phone",
        "login login 403 404 403 403 ok ok",
    ),
    ("PUT /api/users/{username}/grids", "login login 403 403 403 403 403 ok"),
    ("GET /manage/territory", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/territory", "login login 403 404 403 403 ok ok"),
    ("GET /manage/territory/grids/{id}", "login login 403 404 403 403 ok ok"),
    ("POST /manage/territory/grids/{id}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/territory/grids/{id}/buildings",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/territory/buildings/{id}",
        "login login 403 404 403 403 ok ok",
    ),
    // Import: an upload is its uploader's (the community's lead).
    ("GET /manage/import", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/import", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/import/footprints", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/import/template/{kind}", "login login 403 ok 403 403 ok ok"),
    (
        "GET /manage/import/{id}/errors.xlsx",
        "login login 403 404 403 403 ok 404",
    ),
    ("POST /manage/import/{id}", "login login 403 404 403 403 ok 404"),
    // Party members: a lead their community's, the admin all.
    ("GET /manage/party", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/party", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/new", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/party/groups", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/members/{id}", "login login 403 404 403 403 ok ok"),
    ("POST /manage/party/members/{id}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/party/members/{id}/status",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/party/members/{id}/households",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/party/members/{id}/buildings",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/party/members/{id}/visits",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/party/members/{id}/unlink",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/party/members/{id}/account",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "GET /manage/party/members/{id}/card",
        "login login 403 404 403 403 ok ok",
    ),
    ("GET /manage/party/households/{id}", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/overdue", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/hours", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/hours.csv", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/hours.xlsx", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/units", "login login 403 404 403 403 ok ok"),
    ("GET /manage/party/units.xlsx", "login login 403 404 403 403 ok ok"),
    // The cadences and the yearly hours rule hold for every community.
    ("GET /manage/party/rules", "login login 403 403 403 403 403 ok"),
    ("POST /manage/party/rules", "login login 403 403 403 403 403 ok"),
    // Activities and volunteers: a lead their community's, the admin all; a
    // worker of the community (either grid) takes attendance.
    ("GET /manage/activities", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/activities", "login login 403 404 403 403 ok ok"),
    ("GET /manage/activities/{id}", "login login 403 404 403 403 ok ok"),
    ("POST /manage/activities/{id}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/activities/{id}/publish",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "GET /manage/activities/{id}/attendance",
        "login login ok 404 403 ok ok ok",
    ),
    (
        "POST /manage/activities/{id}/attendance",
        "login login ok 404 403 ok ok ok",
    ),
    ("GET /manage/activities/rates", "login login 403 ok 403 403 ok ok"),
    ("GET /manage/activities/teams", "login login 403 ok 403 403 ok ok"),
    ("POST /manage/activities/teams", "login login 403 404 403 403 ok ok"),
    ("GET /manage/activities/teams/{id}", "login login 403 404 403 403 ok ok"),
    (
        "POST /manage/activities/teams/{id}/members",
        "login login 403 404 403 403 ok ok",
    ),
    (
        "POST /manage/activities/teams/{id}/remove",
        "login login 403 404 403 403 ok ok",
    ),
    // The public sign-up of a published activity: anyone.
    ("GET /n/{community}/activities/{activity}", "ok ok ok ok ok ok ok ok"),
    // Who serves a building: anyone.
    ("GET /n/{community}/b/{building}", "ok ok ok ok ok ok ok ok"),
    ("GET /n/{community}/b/{building}/poster.svg", "ok ok ok ok ok ok ok ok"),
    ("POST /n/{community}/activities/{activity}", "ok ok ok ok ok ok ok ok"),
];

/// The records the paths name, all of 第1网格 in 春华社区 (lead1's).
struct Records {
    grid: String,
    building: String,
    household: String,
    resident: String,
    /// A photo taken on a visit in the grid, and its bytes.
    photo: String,
    photo_bytes: Vec<u8>,
    request: String,
    rating_token: String,
    community: String,
    /// A published notice of the community, and a file attached to it.
    notice: String,
    notice_file: String,
    /// The lead's spreadsheet upload waiting for confirmation.
    import: String,
    /// A worker of the community whom none of the callers is.
    worker: String,
    worker_grid: String,
    /// An in-service party member registered with the community.
    member: String,
    /// A volunteer team of the community, and its activity tomorrow, published.
    team: String,
    activity: String,
}

impl Records {
    /// The value of `{name}` after the segment `previous`.
    fn value(&self, previous: &str, name: &str) -> Option<&str> {
        Some(match (previous, name) {
            ("grids", "id") => &self.grid,
            ("buildings", "id") => &self.building,
            ("households", "id") => &self.household,
            ("residents", "id") => &self.resident,
            ("photos", "hash") => &self.photo,
            ("requests", "id") => &self.request,
            ("notices", "id") => &self.notice,
            ("files", "hash") => &self.notice_file,
            ("import", "id") => &self.import,
            ("template", "kind") => "staff",
            ("users", "username") => &self.worker,
            ("members", "id") => &self.member,
            ("teams", "id") => &self.team,
            ("activities", "id") | (_, "activity") => &self.activity,
            ("n", "community") => &self.community,
            ("b", "building") => &self.building,
            (_, "notice") => &self.notice,
            (_, "action") => "publish",
            ("rate", "token") => &self.rating_token,
            _ => return None,
        })
    }

    /// `path` with its parameters filled in.
    fn fill(&self, path: &str) -> String {
        let mut filled = String::new();
        let mut previous = "";
        for segment in path.split('/').skip(1) {
            filled.push('/');
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => filled.push_str(
                    self.value(previous, name)
                        .unwrap_or_else(|| panic!("no record for {{{name}}} in {path}: add one to Records::value")),
                ),
                None => filled.push_str(segment),
            }
            previous = segment;
        }
        filled
    }

    /// Filters that name a grid, checked against the caller's grids.
    fn query(&self, path: &str) -> String {
        let filtered = path.starts_with("/manage/coverage")
            || matches!(
                path,
                "/manage/requests" | "/manage/requests/ledger.csv" | "/manage/requests/ledger.xlsx"
            );
        let community = path.starts_with("/manage/party/hours")
            || path.starts_with("/manage/party/units")
            || path == "/manage/party/overdue";
        if filtered {
            format!("?grid={}", self.grid)
        } else if community {
            format!("?community={}", self.community)
        } else {
            String::new()
        }
    }

    /// A body the route accepts, for its allowed callers to be served.
    fn body(&self, method: &str, path: &str) -> Body {
        let form =
            |pairs: &[(&'static str, &str)]| Body::Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
        match (method, path) {
            ("POST", "/login") => form(&[("username", "worker4"), ("password", PASSWORD)]),
            ("POST", "/api/login") => Body::Json(json!({"username": "worker4", "password": PASSWORD})),
            ("POST", "/api/sync/push") => Body::Json(json!({
                "device_id": "matrix",
                "operations": [routine_visit(&self.household, "门口问候")],
            })),
            ("PUT", "/api/photos/{hash}") => Body::Bytes(self.photo_bytes.clone()),
            ("POST", "/account/password") => form(&[
                ("current", PASSWORD),
                ("new", "矩阵里换的新密码"),
                ("repeat", "矩阵里换的新密码"),
            ]),
            ("POST", "/account/sessions/end") => form(&[("session", "others")]),
            ("POST", "/manage/requests/new") => Body::Multipart(
                vec![
                    ("source", "walk_in".into()),
                    ("grid", self.grid.clone()),
                    ("place", "3号楼地下室".into()),
                    ("phone", String::new()),
                    ("category", "safety".into()),
                    ("text", "地下室积水".into()),
                ],
                None,
            ),
            ("POST", "/manage/requests/{id}/act") => form(&[("action", "note"), ("note", "电话核实进展")]),
            ("POST", "/manage/requests/figures/notice") => form(&[("quarter", &this_quarter())]),
            ("POST", "/manage/request-categories") => form(&[]),
            ("POST", "/manage/notices") => form(&[
                ("community_id", &self.community),
                ("category", "affairs"),
                ("title", "矩阵通知"),
                ("body", "本周六上午社区义诊"),
            ]),
            ("POST", "/manage/notices/{id}") => form(&[
                ("category", "affairs"),
                ("title", "改过的通知"),
                ("body", "本周六上午社区义诊"),
            ]),
            ("POST", "/manage/notices/{id}/files") => Body::file("file", "海报.png", png()),
            ("POST", "/n/{community}/requests/new") => form(&[
                ("category", "environment"),
                ("text", "小区北门垃圾堆放"),
                ("phone", "13912345678"),
                ("building", ""),
            ]),
            ("POST", "/rate/{token}") => form(&[("satisfaction", "satisfied")]),
            ("POST", "/manage/policies") => form(&[("elderly_alone", "10")]),
            ("POST", "/manage/users") => form(&[
                (
                    "username",
                    &format!("m{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
                ),
                ("display_name", "矩阵"),
                ("role", "worker"),
            ]),
            ("POST", "/manage/users/{username}/grids") => form(&[("grid", &self.worker_grid)]),
            ("POST", "/manage/users/{username}/phone") => form(&[("work_phone", "0571-87654321")]),
            ("PUT", "/api/users/{username}/grids") => Body::Json(json!({"grids": [self.worker_grid]})),
            ("POST", "/manage/territory") => form(&[("community", &self.community), ("name", "矩阵网格")]),
            ("POST", "/manage/territory/grids/{id}") => form(&[("name", "第1网格"), ("community", &self.community)]),
            ("POST", "/manage/territory/grids/{id}/buildings") => form(&[
                ("name", "矩阵楼"),
                ("units", "1"),
                ("floors", "2"),
                ("doors", "2"),
                ("address", ""),
            ]),
            ("POST", "/manage/territory/buildings/{id}") => form(&[("name", "矩阵1号楼"), ("grid", &self.grid)]),
            ("POST", "/manage/import") => staff_upload(),
            ("POST", "/manage/party") => party_member_form("矩阵党员", Some(&self.community)),
            ("POST", "/manage/party/groups") => form(&[
                ("community", &self.community),
                ("branch", "第一党支部"),
                ("group", "矩阵党小组"),
                ("grid", &self.grid),
            ]),
            ("POST", "/manage/party/members/{id}") => party_member_form("矩阵在职党员", None),
            ("POST", "/manage/party/members/{id}/status") => form(&[("status", "active")]),
            ("POST", "/manage/party/members/{id}/account") => form(&[("username", "matrix.member")]),
            ("POST", "/manage/party/members/{id}/households") => {
                form(&[("household", &self.household), ("kind", "hardship")])
            }
            ("POST", "/manage/party/members/{id}/buildings") => form(&[("building", &self.building)]),
            // The building: the household stays linked for the visit after.
            ("POST", "/manage/party/members/{id}/unlink") => form(&[("building", &self.building)]),
            ("POST", "/manage/party/members/{id}/visits") => form(&[
                ("visit_id", &uuid::Uuid::now_v7().to_string()),
                ("household", &self.household),
                ("visited_at", &an_hour_ago()),
                ("outcome", "met"),
                ("hours", "1"),
                ("notes", ""),
            ]),
            ("POST", "/manage/party/rules") => form(&[
                ("county_leader", "3"),
                ("committee", "1"),
                ("member", "2"),
                ("annual_hours", "16"),
            ]),
            ("POST", "/manage/activities") => activity_form("矩阵活动", &self.community),
            ("POST", "/manage/activities/{id}") => activity_form("改过的矩阵活动", &self.community),
            ("POST", "/manage/activities/{id}/attendance") => form(&[("attendee", &format!("member:{}", self.member))]),
            ("POST", "/manage/activities/teams") => form(&[("community", &self.community), ("name", "矩阵环境卫生队")]),
            ("POST", "/manage/activities/teams/{id}/members") => form(&[("member", &self.member)]),
            ("POST", "/manage/activities/teams/{id}/remove") => form(&[("person", &self.member)]),
            ("POST", "/n/{community}/activities/{activity}") => form(&[("name", "矩阵居民"), ("phone", "")]),
            ("POST", "/manage/import/footprints") => Body::file(
                "file",
                "楼栋.geojson",
                br#"{"type":"FeatureCollection","features":[]}"#.to_vec(),
            ),
            _ => Body::Empty,
        }
    }
}

enum Body {
    Empty,
    Form(Vec<(&'static str, String)>),
    Json(Value),
    Bytes(Vec<u8>),
    /// Text fields and a file (its field name, file name and bytes).
    Multipart(
        Vec<(&'static str, String)>,
        Option<(&'static str, &'static str, Vec<u8>)>,
    ),
}

impl Body {
    fn file(field: &'static str, name: &'static str, bytes: Vec<u8>) -> Body {
        Body::Multipart(Vec::new(), Some((field, name, bytes)))
    }

    fn attach(self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Body::Empty => request,
            Body::Form(pairs) => request.form(&pairs),
            Body::Json(value) => request.json(&value),
            Body::Bytes(bytes) => request.body(bytes),
            Body::Multipart(fields, file) => {
                let form = fields
                    .into_iter()
                    .fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text(k, v));
                request.multipart(match file {
                    Some((field, name, bytes)) => {
                        form.part(field, reqwest::multipart::Part::bytes(bytes).file_name(name))
                    }
                    None => form,
                })
            }
        }
    }
}

/// An answer as the matrix reads it.
struct Answer {
    status: StatusCode,
    location: String,
}

impl Answer {
    /// Whether it is what `expected` says (never, for a server error).
    fn is(&self, expected: Access, method: &str) -> bool {
        let code = self.status.as_u16();
        // Signing out sends one to the login page too: only a page asked
        // for is a refusal when it does.
        let to_login = method == "GET" && self.status.is_redirection() && self.location.starts_with("/login");
        match expected {
            _ if code >= 500 => false,
            Access::Ok if method == "GET" => code < 400 && !to_login,
            Access::Ok => !matches!(code, 401 | 403 | 404),
            Access::Login => code == 401 || to_login,
            Access::Status(expected) => code == expected,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location.as_str() {
            "" => write!(f, "{}", self.status),
            to => write!(f, "{} → {to}", self.status),
        }
    }
}

/// Requests with a session of one's choosing and nothing remembered from
/// answers: a route that signs someone in does not change who asks next.
struct Asker<'a> {
    server: &'a TestServer,
    http: reqwest::Client,
}

impl Asker<'_> {
    async fn ask(&self, session: Option<&str>, method: &str, path: &str, body: Body) -> Answer {
        let url = self.server.url(path);
        let origin = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .http
            .request(method, &url)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = session {
            request = request.header("cookie", cookie);
        }
        let response = body.attach(request).send().await.expect("an answer");
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// As `ask`, for the setup, which must succeed.
    async fn setup(&self, session: &str, method: &str, path: &str, body: Body) {
        let answer = self.ask(Some(session), method, path, body).await;
        assert!(
            answer.status.is_success() || answer.status.is_redirection(),
            "setup: {method} {path}: {answer}"
        );
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(64, 48)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A staff sheet of one new worker for 第1网格, for the import's dry run.
fn staff_upload() -> Body {
    let csv = "登录名,姓名,岗位,负责网格\nzhou.qi,周琪,专职网格员,第1网格\n";
    Body::Multipart(
        vec![("kind", "staff".into())],
        Some(("file", "人员.csv", csv.as_bytes().to_vec())),
    )
}

/// An in-service party member of the community named (a lead's own when `None`).
fn party_member_form(name: &str, community: Option<&str>) -> Body {
    let mut fields = vec![
        ("kind", "in_service".to_owned()),
        ("name", name.to_owned()),
        ("unit", "区教育局".to_owned()),
        ("work_phone", "13800001111".to_owned()),
        ("rank", "member".to_owned()),
        ("branch", "第一党支部".to_owned()),
    ];
    if let Some(community) = community {
        fields.push(("community", community.to_owned()));
    }
    Body::Form(fields)
}

/// An activity of the community named, tomorrow (Beijing), without a team.
fn activity_form(title: &str, community: &str) -> Body {
    let tomorrow = app::domain::CivilDate::from_epoch_ms(app::clock::now_ms() + 32 * 3_600_000);
    Body::Form(vec![
        ("community", community.to_owned()),
        ("title", title.to_owned()),
        ("place", "社区广场".to_owned()),
        ("starts_at", format!("{tomorrow}T09:00")),
        ("ends_at", format!("{tomorrow}T11:00")),
        ("hours", "2".to_owned()),
        ("team", String::new()),
    ])
}

/// An hour ago in Beijing, as a `datetime-local` field writes it.
fn an_hour_ago() -> String {
    let local = app::clock::now_ms() - 3_600_000 + 8 * 3_600_000;
    let minute = local.rem_euclid(86_400_000) / 60_000;
    let day = app::domain::CivilDate::from_epoch_ms(local);
    format!("{day}T{:02}:{:02}", minute / 60, minute % 60)
}

fn this_quarter() -> String {
    let today = app::domain::CivilDate::from_epoch_ms(app::clock::now_ms() + 8 * 3_600_000);
    format!("{}Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

/// Signs the callers in and makes the records the paths name.
async fn prepare(server: &TestServer, asker: &Asker<'_>) -> (Records, HashMap<&'static str, String>) {
    let scalar = |sql: &'static str, bind: String| async move { server.scalar(sql, &bind).await };
    let grid_id = |name: &'static str| scalar("SELECT id FROM grids WHERE name = $1", name.to_owned());
    let grid = grid_id("第1网格").await;
    let (household, resident) = server.household_in("第1网格").await;
    let mut sessions = HashMap::new();
    for user in ["admin", "worker1", "worker2", "worker3", "lead1", "lead2"] {
        sessions.insert(user, server.session_cookie(user).await);
    }

    // A photo taken on a visit in the grid.
    let photo_bytes = jpeg();
    let photo = sha256(&photo_bytes);
    let worker = &sessions["worker1"];
    let path = format!("/api/photos/{photo}");
    asker
        .setup(worker, "PUT", &path, Body::Bytes(photo_bytes.clone()))
        .await;
    let mut visit = routine_visit(&household, "带了照片");
    visit["change"]["record_visit"]["photos"] = json!([photo]);
    let push = |op: Value| Body::Json(json!({"device_id": "setup", "operations": [op]}));
    asker.setup(worker, "POST", "/api/sync/push", push(visit)).await;

    // A resolved request of the grid, with a rating code shown to its resident.
    let request = scalar(
        "SELECT id FROM requests WHERE grid_id = $1 AND status = 'resolved' ORDER BY id LIMIT 1",
        grid.clone(),
    )
    .await;
    let rating_token = uuid::Uuid::new_v4().simple().to_string();
    let register = json!({"op_id": new_id(), "created_at": app::clock::now_ms(),
        "change": {"rating_token": {"request_id": request, "token": rating_token}}});
    asker.setup(worker, "POST", "/api/sync/push", push(register)).await;

    // A published notice of the community with a file.
    let community = server.community_of("lead1").await;
    let notice = scalar(
        "SELECT id FROM notices WHERE community_id = $1 AND status = 'published' ORDER BY id LIMIT 1",
        community.clone(),
    )
    .await;
    let lead = &sessions["lead1"];
    let files = format!("/manage/notices/{notice}/files");
    asker
        .setup(lead, "POST", &files, Body::file("file", "海报.png", png()))
        .await;
    let notice_file = scalar(
        "SELECT hash FROM notice_attachments WHERE notice_id = $1",
        notice.clone(),
    )
    .await;

    // The lead's upload of staff, checked and waiting.
    let import = staff_upload();
    asker.setup(lead, "POST", "/manage/import", import).await;
    let import = scalar(
        "SELECT u.id FROM import_uploads u JOIN users s ON s.id = u.user_id WHERE s.username = $1",
        "lead1".into(),
    )
    .await;

    // worker3 also works 第1网格, signs in, and is then disabled.
    let admin = &sessions["admin"];
    let worker3_grids = json!({"grids": [grid_id("第3网格").await, grid]});
    asker
        .setup(admin, "PUT", "/api/users/worker3/grids", Body::Json(worker3_grids))
        .await;
    asker
        .setup(admin, "POST", "/manage/users/worker3/disable", Body::Empty)
        .await;

    // An in-service party member registered by the lead.
    asker
        .setup(lead, "POST", "/manage/party", party_member_form("矩阵在职党员", None))
        .await;
    let member = scalar("SELECT id FROM party_members WHERE name = $1", "矩阵在职党员".into()).await;
    // Its 联系户, for a visit recorded at the desk.
    let link = Body::Form(vec![("household", household.clone()), ("kind", "hardship".to_owned())]);
    asker
        .setup(
            lead,
            "POST",
            &format!("/manage/party/members/{member}/households"),
            link,
        )
        .await;

    // Another member, linked to a household of the grid in another building,
    // with a phone account.
    asker
        .setup(lead, "POST", "/manage/party", party_member_form("矩阵手机党员", None))
        .await;
    let phone_member = scalar("SELECT id FROM party_members WHERE name = $1", "矩阵手机党员".into()).await;
    let elsewhere = scalar(
        "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id
         WHERE b.grid_id = (SELECT b2.grid_id FROM households h2 JOIN buildings b2 ON b2.id = h2.building_id
                            WHERE h2.id = $1)
           AND h.building_id <> (SELECT building_id FROM households WHERE id = $1)
         ORDER BY h.id LIMIT 1",
        household.clone(),
    )
    .await;
    let link = Body::Form(vec![("household", elsewhere), ("kind", "ordinary".to_owned())]);
    let links = format!("/manage/party/members/{phone_member}/households");
    asker.setup(lead, "POST", &links, link).await;
    let lead_client = server.login_as("lead1").await;
    common::member_account(server, &lead_client, &phone_member, "matrix.phone").await;
    let member_session = server
        .session_cookie_with("matrix.phone", common::MEMBER_PASSWORD)
        .await;

    // A volunteer team, and an activity tomorrow published as a 活动通知.
    let team_form = Body::Form(vec![("name", "矩阵巡逻队".to_owned())]);
    asker.setup(lead, "POST", "/manage/activities/teams", team_form).await;
    let team = scalar("SELECT id FROM volunteer_teams WHERE name = $1", "矩阵巡逻队".into()).await;
    let activity_made = activity_form("矩阵巡逻", &community);
    asker.setup(lead, "POST", "/manage/activities", activity_made).await;
    let activity = scalar("SELECT id FROM activities WHERE title = $1", "矩阵巡逻".into()).await;
    let publish = format!("/manage/activities/{activity}/publish");
    asker.setup(lead, "POST", &publish, Body::Empty).await;

    sessions.insert("member", member_session);
    let building = scalar("SELECT building_id FROM households WHERE id = $1", household.clone()).await;
    let records = Records {
        building,
        household,
        resident,
        photo,
        photo_bytes,
        request,
        rating_token,
        community,
        notice,
        notice_file,
        import,
        worker: "worker4".into(),
        worker_grid: grid_id("第4网格").await,
        member,
        team,
        activity,
        grid,
    };
    (records, sessions)
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_matrix_says() {
    let server = TestServer::start_with(|s| s.public_requests_per_minute = 1_000_000).await;
    let asker = Asker {
        server: &server,
        // A connection of its own per request: a route that answers before
        // reading a body (a refused upload) closes its connection, and a
        // pooled one would carry that into the next request (seen once as
        // `IncompleteMessage` on the desk's multipart form).
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .expect("client"),
    };

    // The router's routes and the matrix's lines, one for one.
    let routed: BTreeSet<String> = server.routes.iter().map(ToString::to_string).collect();
    assert_eq!(routed.len(), server.routes.len(), "a route registered twice");
    let listed: BTreeSet<String> = MATRIX.iter().map(|(route, _)| (*route).to_owned()).collect();
    assert_eq!(listed.len(), MATRIX.len(), "a route listed twice in the matrix");
    let unlisted: Vec<_> = routed.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&routed).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "routes without a line in the access matrix (tests/access.rs, MATRIX): {unlisted:?}; \
         lines for routes the router does not have: {gone:?}"
    );

    let (records, sessions) = prepare(&server, &asker).await;
    let session = |caller: Caller| match caller {
        Caller::Anonymous => None,
        Caller::Disabled => Some(sessions["worker3"].as_str()),
        Caller::WorkerOutOfGrid => Some(sessions["worker2"].as_str()),
        Caller::LeadOutOfCommunity => Some(sessions["lead2"].as_str()),
        Caller::MemberOfAnotherHousehold => Some(sessions["member"].as_str()),
        Caller::WorkerInGrid => Some(sessions["worker1"].as_str()),
        Caller::LeadInCommunity => Some(sessions["lead1"].as_str()),
        Caller::Admin => Some(sessions["admin"].as_str()),
    };

    // Reads first, then writes; signing out last, as it ends the session.
    let mut lines: Vec<(&str, &str, &str)> = MATRIX
        .iter()
        .map(|(route, access)| {
            let (method, path) = route.split_once(' ').expect("METHOD /path");
            (method, path, *access)
        })
        .collect();
    lines.sort_by_key(|(method, path, _)| (*path == "/logout", *method != "GET", *path, *method));

    let mut wrong = Vec::new();
    for (method, path, access) in lines {
        let expected: Vec<Access> = access.split_whitespace().map(Access::parse).collect();
        assert_eq!(expected.len(), CALLERS.len(), "{method} {path}: one column per caller");
        let filled = records.fill(path) + &records.query(path);
        for (caller, expected) in CALLERS.into_iter().zip(expected) {
            let answer = asker
                .ask(session(caller), method, &filled, records.body(method, path))
                .await;
            if !answer.is(expected, method) {
                wrong.push(format!(
                    "{method} {filled} as {caller:?}: expected {expected}, got {answer}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ from the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
