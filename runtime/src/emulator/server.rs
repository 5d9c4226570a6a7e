//! Serving an [`Emulator`] over HTTP/1.1 (axum on tokio).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::auth::LOGIN_PATH;
use super::builder::OrgUrl;
use super::conn::{ConnInfo, FaultListener};
use super::error::EmulatorError;
use super::handlers::{self, ServerCtx};
use super::Emulator;
use crate::cdms::wire::SERVICE_PATH;

/// A running server; dropping it stops the server (gracefully, in the background).
#[derive(Debug)]
pub struct RunningEmulator {
    emulator: Emulator,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Emulator {
    async fn start(
        &self,
        addr: impl ToSocketAddrs,
    ) -> Result<
        (
            SocketAddr,
            watch::Sender<bool>,
            JoinHandle<std::io::Result<()>>,
        ),
        EmulatorError,
    > {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let ctx = Arc::new(ServerCtx {
            emu: self.clone(),
            shutdown: rx.clone(),
            local,
        });
        let app = Router::new().fallback(handlers::handle).with_state(ctx);
        let mut stop = rx;
        let server = axum::serve(
            FaultListener { inner: listener },
            app.into_make_service_with_connect_info::<ConnInfo>(),
        )
        .with_graceful_shutdown(async move {
            // Resolves on `true` or when the sender is gone (the handle was dropped).
            let _ = stop.wait_for(|s| *s).await;
        });
        let task = tokio::spawn(async move { server.await });
        tracing::debug!(%local, org = %self.inner.cfg.org, "CDMS emulator listening");
        Ok((local, tx, task))
    }

    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves in a spawned task.
    pub async fn serve(&self, addr: impl ToSocketAddrs) -> Result<RunningEmulator, EmulatorError> {
        let (addr, shutdown, task) = self.start(addr).await?;
        Ok(RunningEmulator {
            emulator: self.clone(),
            addr,
            shutdown,
            task: Some(task),
        })
    }

    /// Binds `addr` and serves until Ctrl-C (for the standalone command line).
    pub async fn serve_forever(&self, addr: impl ToSocketAddrs) -> Result<(), EmulatorError> {
        let running = self.serve(addr).await?;
        tracing::info!(base_url = %running.base_url(), "CDMS emulator serving; Ctrl-C stops it");
        tokio::signal::ctrl_c().await?;
        running.shutdown().await
    }
}

impl RunningEmulator {
    /// The emulator being served.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ip:port` (a wildcard bind is reported as loopback).
    pub fn origin(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}")
    }

    /// The organisation root: `{base_url}/XRMServices/2011/OrganizationData.svc/AccountSet` is
    /// a collection URL.
    pub fn base_url(&self) -> String {
        match self.emulator.inner.cfg.org_url {
            OrgUrl::Path => format!("{}/{}", self.origin(), self.emulator.inner.cfg.org),
            OrgUrl::Root => self.origin(),
        }
    }

    /// The service root: `{base_url}/XRMServices/2011/OrganizationData.svc`.
    pub fn service_url(&self) -> String {
        format!("{}{SERVICE_PATH}", self.base_url())
    }

    /// The URL of an entity set.
    pub fn set_url(&self, set: &str) -> String {
        format!("{}/{set}", self.service_url())
    }

    /// The sign-in URL of the session auth mode.
    pub fn login_url(&self) -> String {
        format!("{}{LOGIN_PATH}", self.origin())
    }

    /// Stops accepting connections, lets in-flight requests finish (hung fault requests are
    /// released), and waits for the server task.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(result)) => result?,
                Ok(Err(join)) => return Err(EmulatorError::Io(std::io::Error::other(join))),
                Err(_) => {
                    return Err(EmulatorError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the emulator did not stop within 30 s",
                    )))
                }
            }
        }
        Ok(())
    }
}

impl std::ops::Deref for RunningEmulator {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
