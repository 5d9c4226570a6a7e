//! The HTTP entry point: every request goes through latency, fault rules, authentication, the
//! OData service ([`super::service`]) and the request log, in that order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, request::Parts, HeaderMap, Method, Request, Response};
use tokio::sync::watch;

use super::auth::{self, Auth, ExpiredAnswer, LOGIN_PATH, SESSION_COOKIE};
use super::conn::ConnInfo;
use super::error::ApiError;
use super::faults::{FaultAction, FaultRequest};
use super::log::RequestRecord;
use super::reply::Reply;
use super::routes::{self, Route};
use super::{service, Emulator};
use crate::cdms::wire;

/// Shared by all requests of one running server.
pub(crate) struct ServerCtx {
    pub emu: Emulator,
    pub shutdown: watch::Receiver<bool>,
    pub local: SocketAddr,
}

/// A request as the service sees it.
pub(crate) struct Req<'a> {
    /// Effective method, upper case (a tunnelled `X-HTTP-Method` replaces `POST`).
    pub method: &'a str,
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    pub route: &'a Route,
    /// `http://host:port`
    pub origin: String,
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the client asked for JSON (`Accept: application/json`, verbose or not).
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// Whether the client accepts any media type: no `Accept` header, or a `*/*` or
/// `application/*` range in it.
pub(crate) fn accepts_anything(headers: &HeaderMap) -> bool {
    let mut values = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .peekable();
    if values.peek().is_none() {
        return true;
    }
    values.flat_map(|v| v.split(',')).any(|range| {
        let media = range.split(';').next().unwrap_or("").trim();
        media == "*/*" || media.eq_ignore_ascii_case("application/*")
    })
}

/// Whether to answer in JSON: asked for, or accepted when the emulator is configured to serve
/// JSON to clients that accept anything ([`super::EmulatorBuilder::json_for_any_accept`]).
pub(crate) fn answers_json(emu: &Emulator, headers: &HeaderMap) -> bool {
    wants_json(headers) || (emu.inner.cfg.json_for_any_accept && accepts_anything(headers))
}

fn origin(parts: &Parts, local: SocketAddr) -> String {
    match header_str(&parts.headers, "host") {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ', '@']) => {
            format!("http://{host}")
        }
        _ => format!("http://{local}"),
    }
}

/// The handler of every request.
pub(crate) async fn handle(
    State(ctx): State<Arc<ServerCtx>>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request<Body>,
) -> Response<Body> {
    let started = Instant::now();
    let at = SystemTime::now();
    let (parts, body) = req.into_parts();
    let emu = &ctx.emu;
    let tunnel = if parts.method == Method::POST {
        header_str(&parts.headers, "x-http-method").map(|m| m.trim().to_ascii_uppercase())
    } else {
        None
    };
    let tunnelled = tunnel.is_some();
    let method = tunnel.unwrap_or_else(|| parts.method.as_str().to_ascii_uppercase());
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let route = routes::parse(emu, &path);
    let set = route.set_name(emu).map(str::to_owned);
    let target = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };

    if let Some(delay) = emu.latency_delay() {
        tokio::time::sleep(delay).await;
    }
    if let Some(refusal) = request_limits(&path, &query) {
        emu.inner.log.push(RequestRecord {
            method,
            tunnelled,
            path,
            query,
            status: Some(refusal.status),
            set,
            duration: started.elapsed(),
            at,
            fault: None,
        });
        return refusal.into_response();
    }
    let fault = emu.inner.faults.check(&FaultRequest {
        method: &method,
        set: set.as_deref(),
        target: &target,
    });
    let outcome = match &fault {
        Some((_, action)) if !action.handles_request() => pre_fault(&ctx, action).await,
        _ => {
            let reply = match axum::body::to_bytes(body, emu.inner.cfg.max_body).await {
                Ok(bytes) => {
                    let req = Req {
                        method: &method,
                        headers: &parts.headers,
                        query: &query,
                        route: &route,
                        origin: origin(&parts, ctx.local),
                    };
                    respond(&ctx, &req, &bytes)
                }
                Err(_) => Reply::error(
                    &ApiError {
                        status: 413,
                        code: String::new(),
                        message: "Request entity too large.".into(),
                    },
                    true,
                ),
            };
            match &fault {
                Some((_, action)) => post_fault(&conn, action, reply),
                None => Some(reply),
            }
        }
    };
    emu.inner.log.push(RequestRecord {
        method,
        tunnelled,
        path,
        query,
        status: outcome.as_ref().map(|r| r.status),
        set,
        duration: started.elapsed(),
        at,
        fault: fault.map(|(id, _)| id),
    });
    match outcome {
        Some(reply) => reply.into_response(),
        None => {
            conn.ctl.kill();
            Reply::new(500, "text/plain", "").into_response()
        }
    }
}

/// IIS's request filtering in front of CRM: a query string over `maxQueryString` (404.15) or a
/// path over `maxUrl` (404.14) is refused before anything else sees the request.
fn request_limits(path: &str, query: &str) -> Option<Reply> {
    let (sub, what) = if query.len() > crate::cdms::wire::MAX_QUERY_STRING {
        ("15", "query string")
    } else if path.len() > crate::cdms::wire::MAX_URL_PATH {
        ("14", "URL")
    } else {
        return None;
    };
    Some(Reply::html(
        404,
        format!(
            "<!DOCTYPE html><html><head><title>IIS 7.5 Detailed Error - 404.{sub} - Not Found</title></head>\
             <body><h3>HTTP Error 404.{sub} - Not Found</h3><h4>The request filtering module is \
             configured to deny a request where the {what} is too long.</h4></body></html>"
        ),
    ))
}

/// Faults that replace handling; `None` = no answer (the connection is dropped).
async fn pre_fault(ctx: &ServerCtx, action: &FaultAction) -> Option<Reply> {
    match action {
        FaultAction::Status {
            status,
            code,
            message,
        } => Some(Reply::error(
            &ApiError {
                status: *status,
                code: code.clone(),
                message: message.clone(),
            },
            true,
        )),
        FaultAction::Hang(d) => {
            let mut shutdown = ctx.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(*d) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            None
        }
        FaultAction::Unauthorized => Some(unauthorized("Negotiate")),
        FaultAction::Respond {
            status,
            content_type,
            body,
        } => Some(Reply::new(*status, content_type, body.clone())),
        FaultAction::LoginPage => Some(Reply::html(200, auth::login_page(None))),
        FaultAction::Drop
        | FaultAction::TruncatedBody
        | FaultAction::MalformedJson
        | FaultAction::ApplyThenDrop
        | FaultAction::OmitProperty(_) => None,
    }
}

/// Faults applied to the answer of a handled request.
fn post_fault(conn: &ConnInfo, action: &FaultAction, mut reply: Reply) -> Option<Reply> {
    match action {
        FaultAction::TruncatedBody if reply.body.is_empty() => None,
        FaultAction::TruncatedBody => {
            conn.ctl.truncate_body(reply.body.len() / 2);
            Some(reply)
        }
        FaultAction::MalformedJson => {
            if reply.body.is_empty() {
                reply = Reply::json(
                    if reply.status == 204 {
                        200
                    } else {
                        reply.status
                    },
                    "{\"d\":{".into(),
                    "1.0;",
                );
            } else {
                let half = reply.body.len() / 2;
                reply.body.truncate(half);
            }
            Some(reply)
        }
        FaultAction::ApplyThenDrop => None,
        FaultAction::OmitProperty(name) => {
            if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&reply.body) {
                let d = json.get_mut("d");
                let records: Vec<&mut serde_json::Value> = match d {
                    Some(serde_json::Value::Object(o)) if o.contains_key("results") => o
                        .get_mut("results")
                        .and_then(|r| r.as_array_mut())
                        .map(|a| a.iter_mut().collect())
                        .unwrap_or_default(),
                    Some(serde_json::Value::Array(a)) => a.iter_mut().collect(),
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                for r in records {
                    if let Some(o) = r.as_object_mut() {
                        o.remove(name);
                    }
                }
                reply.body = json.to_string().into_bytes();
            }
            Some(reply)
        }
        _ => Some(reply),
    }
}

fn respond(ctx: &ServerCtx, req: &Req<'_>, body: &[u8]) -> Reply {
    let json = answers_json(&ctx.emu, req.headers);
    match req.route {
        Route::Login => return login(ctx, req, body),
        Route::Outside => {
            let e = ApiError {
                status: 404,
                code: String::new(),
                message: "The resource cannot be found.".into(),
            };
            return Reply::error(&e, json);
        }
        _ => {}
    }
    if let Some(refusal) = check_auth(ctx, req) {
        return refusal;
    }
    service::serve(&ctx.emu, req, body).unwrap_or_else(|e| Reply::error(&e, json))
}

fn unauthorized(challenge: &str) -> Reply {
    Reply::html(
        401,
        "<html><head><title>401 - Unauthorized</title></head><body><h1>401 - Unauthorized: \
         Access is denied due to invalid credentials.</h1></body></html>\n"
            .into(),
    )
    .with(header::WWW_AUTHENTICATE, challenge)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn credentials_match(headers: &HeaderMap, scheme: &str, expected: &str) -> bool {
    header_str(headers, "authorization")
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(s, v)| s.eq_ignore_ascii_case(scheme) && v.trim() == expected)
}

fn current_auth(emu: &Emulator) -> Auth {
    emu.inner
        .auth
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// `None` when the request may proceed; otherwise the refusal.
fn check_auth(ctx: &ServerCtx, req: &Req<'_>) -> Option<Reply> {
    let emu = &ctx.emu;
    match current_auth(emu) {
        Auth::None => None,
        Auth::Basic { user, password } => {
            let expected = auth::base64(format!("{user}:{password}").as_bytes());
            (!credentials_match(req.headers, "Basic", &expected))
                .then(|| unauthorized("Basic realm=\"CRM\""))
        }
        Auth::Bearer { token } => {
            (!credentials_match(req.headers, "Bearer", &token)).then(|| unauthorized("Bearer"))
        }
        Auth::Session(s) => {
            let now = emu.inner.clock.now();
            let live = cookie(req.headers, SESSION_COOKIE)
                .is_some_and(|t| emu.inner.sessions.is_live(t, now, s.lifetime));
            if live {
                return None;
            }
            Some(match s.expired {
                ExpiredAnswer::LoginPage => Reply::html(200, auth::login_page(None)),
                ExpiredAnswer::Redirect => Reply::html(302, String::new())
                    .with(header::LOCATION, format!("{}{LOGIN_PATH}", req.origin)),
                ExpiredAnswer::Unauthorized => unauthorized("Negotiate"),
            })
        }
    }
}

const BAD_CREDENTIALS: &str = "The user name or password is incorrect.";

/// `GET`/`POST /adfs/login`.
fn login(ctx: &ServerCtx, req: &Req<'_>, body: &[u8]) -> Reply {
    let emu = &ctx.emu;
    let Auth::Session(s) = current_auth(emu) else {
        let e = ApiError {
            status: 404,
            code: String::new(),
            message: "The resource cannot be found.".into(),
        };
        return Reply::error(&e, wants_json(req.headers));
    };
    match req.method {
        "GET" => Reply::html(200, auth::login_page(None)),
        "POST" => {
            let content_type = header_str(req.headers, "content-type").unwrap_or("");
            let json = content_type.contains("json");
            match auth::credentials(content_type, body) {
                Some((user, password)) if user == s.user && password == s.password => {
                    let token = emu.inner.sessions.start(emu.inner.clock.now());
                    let reply = if json {
                        Reply::json(200, serde_json::json!({ "user": user }).to_string(), "1.0;")
                    } else {
                        Reply::html(200, "<html><body>Signed in.</body></html>\n".into())
                    };
                    reply.with(
                        header::SET_COOKIE,
                        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly"),
                    )
                }
                _ if json => Reply::new(
                    401,
                    "application/json;charset=utf-8",
                    wire::error_body("", BAD_CREDENTIALS).to_string(),
                ),
                _ => Reply::html(200, auth::login_page(Some(BAD_CREDENTIALS))),
            }
        }
        other => Reply::error(&ApiError::method_not_allowed(other), false),
    }
}
