//! Connections the emulator can sabotage: a TCP listener whose streams a handler can order to
//! drop (close without sending anything) or to cut the response body short, so the client sees a
//! real connection failure rather than an HTTP status.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Every further write fails: the connection closes without (more) output.
    Killed,
    /// Pass the response head, then `keep` body bytes, then fail. `seen` tracks `\r\n\r\n`.
    Truncate {
        keep: usize,
        seen: u8,
        in_body: bool,
    },
}

/// The control handle of one connection, reachable from handlers through `ConnectInfo`.
#[derive(Debug)]
pub(crate) struct ConnCtl {
    mode: Mutex<Mode>,
}

impl ConnCtl {
    fn lock(&self) -> MutexGuard<'_, Mode> {
        self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the connection instead of writing the answer.
    pub fn kill(&self) {
        *self.lock() = Mode::Killed;
    }

    /// Lets the answer's head and the first `keep` bytes of its body through, then closes.
    pub fn truncate_body(&self, keep: usize) {
        *self.lock() = Mode::Truncate {
            keep,
            seen: 0,
            in_body: false,
        };
    }
}

/// The per-connection info handed to handlers.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub ctl: Arc<ConnCtl>,
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener producing [`FaultIo`] streams.
pub(crate) struct FaultListener {
    pub inner: TcpListener,
}

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _remote)) => {
                    let _ = stream.set_nodelay(true);
                    let ctl = Arc::new(ConnCtl {
                        mode: Mutex::new(Mode::Normal),
                    });
                    let io = FaultIo {
                        stream,
                        ctl: Arc::clone(&ctl),
                    };
                    return (io, ConnInfo { ctl });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()?;
        Ok(ConnInfo {
            ctl: Arc::new(ConnCtl {
                mode: Mutex::new(Mode::Normal),
            }),
        })
    }
}

/// A TCP stream whose writes obey its [`ConnCtl`].
pub(crate) struct FaultIo {
    stream: TcpStream,
    ctl: Arc<ConnCtl>,
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by a fault rule",
    )
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if *self.ctl.lock() == Mode::Killed {
            return Poll::Ready(Err(closed()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

/// Advances the search for the `\r\n\r\n` ending a response head over `buf`: returns how many
/// bytes belong to the head, the new search state, and whether the head is complete.
fn scan_head(mut seen: u8, buf: &[u8]) -> (usize, u8, bool) {
    for (i, &b) in buf.iter().enumerate() {
        seen = match (seen, b) {
            (0 | 2, b'\r') => seen + 1,
            (1, b'\n') => 2,
            (3, b'\n') => 4,
            (_, b'\r') => 1,
            _ => 0,
        };
        if seen == 4 {
            return (i + 1, 4, true);
        }
    }
    (buf.len(), seen, false)
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mode = *self.ctl.lock();
        let allowed = match mode {
            Mode::Normal => buf.len(),
            Mode::Killed => return Poll::Ready(Err(closed())),
            Mode::Truncate {
                keep,
                seen,
                in_body,
            } => {
                let (head, _, body_starts) = if in_body {
                    (0, 4, true)
                } else {
                    scan_head(seen, buf)
                };
                let body = if body_starts {
                    (buf.len() - head).min(keep)
                } else {
                    0
                };
                if head + body == 0 {
                    self.ctl.kill();
                    return Poll::Ready(Err(closed()));
                }
                head + body
            }
        };
        let written = match Pin::new(&mut self.stream).poll_write(cx, &buf[..allowed]) {
            Poll::Ready(Ok(w)) => w,
            other => return other,
        };
        if let Mode::Truncate {
            keep,
            seen,
            in_body,
        } = mode
        {
            let (head, seen, in_body) = if in_body {
                (0, 4, true)
            } else {
                scan_head(seen, &buf[..written])
            };
            let body_written = if in_body { written - head } else { 0 };
            *self.ctl.lock() = Mode::Truncate {
                keep: keep - body_written.min(keep),
                seen,
                in_body,
            };
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
