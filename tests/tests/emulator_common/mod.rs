//! HTTP helpers shared by the emulator tests (raw requests with reqwest).

#![allow(dead_code)]

use std::time::Duration;

use cdms_runtime::emulator::{Emulator, RunningEmulator};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

/// An answer, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `d` of a single-entry answer.
    pub fn d(&self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "status {}: {}",
            self.status,
            self.text
        );
        self.json()["d"].clone()
    }

    /// Asserts CRM's error body shape and returns `(code, message)`.
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        let obj = v.as_object().expect("error body is an object");
        assert_eq!(
            obj.keys().collect::<Vec<_>>(),
            ["error"],
            "only `error` at top level: {v}"
        );
        let err = &v["error"];
        let code = err["code"]
            .as_str()
            .unwrap_or_else(|| panic!("code is a string: {v}"));
        assert_eq!(err["message"]["lang"], "en-US", "{v}");
        let message = err["message"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("message.value: {v}"));
        (code.to_owned(), message.to_owned())
    }
}

/// A reqwest client talking to one running emulator.
pub struct Http {
    pub client: reqwest::Client,
    /// The service root (`.../XRMServices/2011/OrganizationData.svc`).
    pub svc: String,
}

impl Http {
    pub fn new(server: &RunningEmulator) -> Self {
        Self::with_client(
            server,
            reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        )
    }

    pub fn with_client(server: &RunningEmulator, client: reqwest::Client) -> Self {
        Http {
            client,
            svc: server.service_url(),
        }
    }

    /// `rel` below the service root, or an absolute URL.
    pub fn url(&self, rel: &str) -> String {
        if rel.starts_with("http") {
            rel.to_owned()
        } else {
            format!("{}{rel}", self.svc)
        }
    }

    pub async fn request(
        &self,
        method: &str,
        rel: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Resp, reqwest::Error> {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(rel));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        Ok(Resp {
            status,
            headers,
            text,
        })
    }

    /// A JSON request (`Accept: application/json`).
    pub async fn call(&self, method: &str, rel: &str, body: Option<&Value>) -> Resp {
        self.request(method, rel, body, &[("Accept", "application/json")])
            .await
            .unwrap_or_else(|e| panic!("{method} {rel}: {e}"))
    }

    pub async fn get(&self, rel: &str) -> Resp {
        self.call("GET", rel, None).await
    }

    pub async fn post(&self, rel: &str, body: &Value) -> Resp {
        self.call("POST", rel, Some(body)).await
    }

    /// Creates a record over HTTP and returns its id.
    pub async fn create(&self, set: &str, body: &Value) -> uuid::Uuid {
        let r = self.post(&format!("/{set}"), body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let location = r.header("location").expect("Location header");
        let id = location
            .rsplit("guid'")
            .next()
            .unwrap()
            .trim_end_matches("')");
        id.parse().unwrap_or_else(|_| panic!("Location {location}"))
    }
}

/// Starts `emulator` on a free loopback port.
pub async fn start(emulator: &Emulator) -> (RunningEmulator, Http) {
    let server = emulator
        .serve("127.0.0.1:0")
        .await
        .expect("emulator serves");
    let http = Http::new(&server);
    (server, http)
}

/// The fixtures' start instant in ms (2016-01-31T13:05:09Z).
pub const START_MS: i64 = 1_454_245_509_000;

/// A `/Date(ms)/` JSON string, as JSON readers see CRM dates.
pub fn date(ms: i64) -> Value {
    Value::String(format!("/Date({ms})/"))
}

/// `{set}(guid'{id}')`
pub fn entity(set: &str, id: uuid::Uuid) -> String {
    format!("/{set}(guid'{id}')")
}

/// Percent-encodes a query option value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~'(),/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
