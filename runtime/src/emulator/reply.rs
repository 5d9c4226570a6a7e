//! Answers before they become HTTP responses: status, headers and a complete body, so fault
//! rules can cut or garble them.

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Response, StatusCode};

use super::error::ApiError;
use super::metadata;
use crate::cdms::wire;

/// A complete answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Vec<u8>,
}

const JSON: &str = "application/json;charset=utf-8";

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![(header::CONTENT_TYPE, content_type.to_owned())],
            body: body.into(),
        }
    }

    /// A JSON answer with the OData version header.
    pub fn json(status: u16, body: String, version: &str) -> Reply {
        Reply::new(status, JSON, body).with(HeaderName::from_static("dataserviceversion"), version)
    }

    /// 204 No Content.
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            headers: vec![(HeaderName::from_static("dataserviceversion"), "1.0;".into())],
            body: Vec::new(),
        }
    }

    /// An error in CRM's JSON body, or the OData XML body for clients that did not ask for JSON.
    pub fn error(e: &ApiError, json: bool) -> Reply {
        if json {
            Reply::new(
                e.status,
                JSON,
                wire::error_body(&e.code, &e.message).to_string(),
            )
        } else {
            Reply::new(
                e.status,
                "application/xml;charset=utf-8",
                metadata::xml_error(&e.code, &e.message),
            )
        }
    }

    /// An HTML page.
    pub fn html(status: u16, body: String) -> Reply {
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    pub fn with(mut self, name: HeaderName, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP response (headers that are not valid header values are left out).
    pub fn into_response(self) -> Response<Body> {
        let mut resp = Response::new(Body::from(self.body));
        *resp.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = resp.headers_mut();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.append(name, v);
            }
        }
        resp
    }
}
