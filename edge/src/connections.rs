//! Serving connections: HTTP/1.1 by hyper, driven here so that no client
//! holds the server's connections (and its open files) for as long as it
//! likes. The limits are [`ServeLimits`]:
//!
//! - **Head**: a request's head must arrive in full within `header_read` of
//!   its first byte (of the connection's opening, for the first request). A
//!   client sending a header line every few seconds, or nothing at all, is
//!   cut off there.
//! - **Keep-alive**: a connection waiting for its next request, with nothing
//!   of it received, is closed after `keep_alive`.
//! - **Body**: a request's body must arrive in full within `body_read` of its
//!   head; past it the connection is closed (nothing of the request is run
//!   after its body is cut: a command reads its whole body first).
//! - **Response**: a connection whose write has waited `write_stall` (a
//!   client that does not read its answer) is closed.
//! - **Bounds**: at most `max_connections` connections (kept below the
//!   process's open-file limit) and `max_connections_per_address` per client
//!   address (an IPv6 address counts by its /64; a trusted reverse proxy
//!   has no bound of its own). A new connection over a
//!   bound takes the place of the connection under that bound that has
//!   waited longest for a request (idle, or still sending its head); when
//!   every one of them is running a request, the new one is answered 503 at
//!   once and closed. Accepting never stops, so the server never runs out of
//!   files and `accept` never fails for want of one.
//!
//! One task (the reaper) looks at every connection every [`ServeLimits::tick`]
//! and closes those past a limit; each connection's reads, writes, requests
//! and responses keep its times in atomics, so the hot path takes no lock.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Most connections served at once, whatever the open-file limit allows.
pub const MAX_CONNECTIONS: usize = 4096;

/// Open files kept for everything but connections: the database's pool and
/// files, the listener, logs, the runtime's own.
pub const RESERVED_FILES: usize = 256;

/// What the server behind the connections tells them: where their
/// counters are kept, which peers are trusted reverse proxies, and how a
/// refusal is worded.
pub trait Host: Send + Sync + 'static {
    /// The counters `/metrics` reads.
    fn counters(&self) -> &ConnectionCounters;
    /// A trusted reverse proxy has no per-address bound: its connections
    /// carry many clients.
    fn is_trusted_proxy(&self, peer: IpAddr) -> bool;
    /// The body (RFC 9457 problem+json) of the 503 a connection refused at
    /// a bound is answered, saying `detail`.
    fn unavailable(&self, detail: &str) -> String;
}

/// The timeouts and bounds of [`serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// A request's head arrives in full within this time of its first byte.
    pub header_read: Duration,
    /// A connection waiting for its next request, nothing of it received,
    /// is closed after this.
    pub keep_alive: Duration,
    /// A request's body arrives in full within this time of its head.
    pub body_read: Duration,
    /// A connection whose write waited this long is closed.
    pub write_stall: Duration,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once from one address (IPv6: one /64).
    pub max_connections_per_address: usize,
}

impl Default for ServeLimits {
    /// Head within 10 s (Go's usual `ReadHeaderTimeout`; nginx allows 60 s),
    /// keep-alive 60 s (nginx: 75 s; cheap here, since an idle connection
    /// gives way to a new one at the bounds), body within 60 s (a body is at
    /// most 1 MiB: 17 KiB/s), a write stalled 60 s, 64 connections per
    /// address (several browsers behind one NAT), and
    /// [`default_max_connections`].
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            keep_alive: Duration::from_secs(60),
            body_read: Duration::from_secs(60),
            write_stall: Duration::from_secs(60),
            max_connections: default_max_connections(),
            max_connections_per_address: 64,
        }
    }
}

impl ServeLimits {
    /// How often the reaper looks: a quarter of the shortest timeout,
    /// between 10 ms and 1 s.
    pub fn tick(&self) -> Duration {
        [self.header_read, self.keep_alive, self.write_stall]
            .into_iter()
            .min()
            .unwrap_or(Duration::from_secs(1))
            .div_f64(4.0)
            .clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// [`MAX_CONNECTIONS`], or fewer when the process's open-file limit minus
/// [`RESERVED_FILES`] is lower (at least 16).
pub fn default_max_connections() -> usize {
    match open_files_limit() {
        Some(limit) => limit
            .saturating_sub(RESERVED_FILES)
            .clamp(16, MAX_CONNECTIONS),
        None => MAX_CONNECTIONS,
    }
}

/// The soft limit of open files (Linux: `/proc/self/limits`); `None` when
/// unlimited or unknown.
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The client's address as the limits count it: an IPv4 address (also
/// when mapped into IPv6), or the /64 of an IPv6 one (a single host
/// usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    HeaderRead,
    KeepAlive,
    BodyRead,
    WriteStall,
    /// Gave its place to a new connection at a bound.
    Evicted,
}

impl Close {
    pub const ALL: [Close; 5] = [
        Close::HeaderRead,
        Close::KeepAlive,
        Close::BodyRead,
        Close::WriteStall,
        Close::Evicted,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Close::HeaderRead => "header_read",
            Close::KeepAlive => "keep_alive",
            Close::BodyRead => "body_read",
            Close::WriteStall => "write_stall",
            Close::Evicted => "evicted",
        }
    }
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address's connections are all running requests.
    Address,
    /// All the server's connections are running requests.
    Server,
}

impl Refused {
    pub fn label(self) -> &'static str {
        match self {
            Refused::Address => "address",
            Refused::Server => "server",
        }
    }
}

/// The connections' counters, for `/metrics`.
#[derive(Default)]
pub struct ConnectionCounters {
    open: AtomicU64,
    closed: [AtomicU64; Close::ALL.len()],
    refused: [AtomicU64; 2],
}

impl ConnectionCounters {
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    pub fn closed(&self, why: Close) -> u64 {
        self.closed[why as usize].load(Ordering::Relaxed)
    }

    pub fn refused(&self, why: Refused) -> u64 {
        self.refused[why as usize].load(Ordering::Relaxed)
    }
}

/// No time: the atomics' "none".
const NONE: u64 = u64::MAX;

/// One connection's state, as its reads, writes and requests leave it.
/// Times are milliseconds since the registry's epoch.
struct Conn {
    id: u64,
    client: String,
    epoch: Instant,
    /// Requests dispatched whose response has not ended (0 or 1: HTTP/1.1
    /// answers in order).
    in_flight: AtomicU32,
    /// When it last started waiting for a request: its opening, or the end
    /// of its last response.
    waiting_since: AtomicU64,
    /// The first byte received while waiting for a request.
    head_started: AtomicU64,
    /// Since when a write has been waiting for the client to read.
    write_blocked_since: AtomicU64,
    /// Closes the connection now.
    close: tokio::sync::Notify,
}

impl Conn {
    fn now(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    fn received(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_started.load(Ordering::Relaxed) == NONE
        {
            let _ = self.head_started.compare_exchange(
                NONE,
                self.now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn wrote<T>(&self, result: &Poll<io::Result<T>>) {
        match result {
            Poll::Pending => {
                if self.write_blocked_since.load(Ordering::Relaxed) == NONE {
                    self.write_blocked_since
                        .store(self.now(), Ordering::Relaxed);
                }
            }
            Poll::Ready(_) => {
                if self.write_blocked_since.load(Ordering::Relaxed) != NONE {
                    self.write_blocked_since.store(NONE, Ordering::Relaxed);
                }
            }
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(NONE, Ordering::Relaxed);
    }

    fn response_ended(&self) {
        // The times first: the reaper reads them once it sees no request.
        self.head_started.store(NONE, Ordering::Relaxed);
        self.waiting_since.store(self.now(), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// The limit this connection is past at `now`, if any.
    fn overdue(&self, limits: &ServeLimits, now: u64) -> Option<Close> {
        let past = |since: u64, limit: Duration| {
            since != NONE && now.saturating_sub(since) >= millis(limit)
        };
        if past(
            self.write_blocked_since.load(Ordering::Relaxed),
            limits.write_stall,
        ) {
            return Some(Close::WriteStall);
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let head = self.head_started.load(Ordering::Relaxed);
        if head != NONE {
            return past(head, limits.header_read).then_some(Close::HeaderRead);
        }
        past(
            self.waiting_since.load(Ordering::Relaxed),
            limits.keep_alive,
        )
        .then_some(Close::KeepAlive)
    }

    /// When it started waiting for a request, if it is not running one.
    fn waiting(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::Acquire) == 0)
            .then(|| self.waiting_since.load(Ordering::Relaxed))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NONE - 1)
}

#[derive(Default)]
struct Conns {
    next_id: u64,
    all: HashMap<u64, Arc<Conn>>,
    per_address: HashMap<String, usize>,
}

impl Conns {
    /// The connection that has waited longest for a request among those
    /// `scope` takes.
    fn longest_waiting(&self, scope: impl Fn(&Conn) -> bool) -> Option<u64> {
        self.all
            .values()
            .filter(|c| scope(c))
            .filter_map(|c| c.waiting().map(|since| (since, c.id)))
            .min()
            .map(|(_, id)| id)
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Conn>> {
        let conn = self.all.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&conn.client) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&conn.client);
            }
        }
        Some(conn)
    }
}

/// The connections open, and the limits they are held to.
struct Registry {
    limits: ServeLimits,
    epoch: Instant,
    host: Arc<dyn Host>,
    conns: Mutex<Conns>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Conns> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn counters(&self) -> &ConnectionCounters {
        self.host.counters()
    }

    /// A place for a new connection from `client`, made if need be by
    /// closing the connection under the bound that waited longest. A
    /// trusted proxy (`per_address` false) has no bound of its own: its
    /// connections carry many clients.
    fn admit(&self, client: String, per_address: bool) -> Result<Arc<Conn>, Refused> {
        let mut conns = self.lock();
        let from_client = conns.per_address.get(&client).copied().unwrap_or(0);
        if per_address && from_client >= self.limits.max_connections_per_address {
            let victim = conns
                .longest_waiting(|c| c.client == client)
                .ok_or(Refused::Address)?;
            self.close_locked(&mut conns, victim, Close::Evicted);
        } else if conns.all.len() >= self.limits.max_connections {
            let victim = conns.longest_waiting(|_| true).ok_or(Refused::Server)?;
            self.close_locked(&mut conns, victim, Close::Evicted);
        }
        let now = millis(self.epoch.elapsed());
        conns.next_id += 1;
        let conn = Arc::new(Conn {
            id: conns.next_id,
            client: client.clone(),
            epoch: self.epoch,
            in_flight: AtomicU32::new(0),
            waiting_since: AtomicU64::new(now),
            // The first request's head is timed from the opening.
            head_started: AtomicU64::new(now),
            write_blocked_since: AtomicU64::new(NONE),
            close: tokio::sync::Notify::new(),
        });
        conns.all.insert(conn.id, conn.clone());
        *conns.per_address.entry(client).or_default() += 1;
        self.counters()
            .open
            .store(conns.all.len() as u64, Ordering::Relaxed);
        Ok(conn)
    }

    fn close_locked(&self, conns: &mut Conns, id: u64, why: Close) {
        if let Some(conn) = conns.remove(id) {
            conn.close.notify_one();
            self.counters().closed[why as usize].fetch_add(1, Ordering::Relaxed);
            self.counters()
                .open
                .store(conns.all.len() as u64, Ordering::Relaxed);
        }
    }

    fn close(&self, id: u64, why: Close) {
        let mut conns = self.lock();
        self.close_locked(&mut conns, id, why);
    }

    /// The connection's task ended.
    fn gone(&self, id: u64) {
        let mut conns = self.lock();
        if conns.remove(id).is_some() {
            self.counters()
                .open
                .store(conns.all.len() as u64, Ordering::Relaxed);
        }
    }

    /// Closes every connection past a limit.
    fn reap(&self) {
        let mut conns = self.lock();
        let now = millis(self.epoch.elapsed());
        let overdue: Vec<(u64, Close)> = conns
            .all
            .values()
            .filter_map(|c| c.overdue(&self.limits, now).map(|why| (c.id, why)))
            .collect();
        for (id, why) in overdue {
            self.close_locked(&mut conns, id, why);
        }
    }
}

/// Removes its connection from the registry when the connection's task
/// ends, however it ends.
struct Gone(Arc<Registry>, u64);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.gone(self.1);
    }
}

/// The answer to a connection refused at a bound: written at once, without
/// reading the request, then the connection is closed.
fn refusal(host: &dyn Host, why: Refused) -> Vec<u8> {
    let detail = match why {
        Refused::Address => {
            "too many connections from this address are running requests: try again in a moment"
        }
        Refused::Server => {
            "the server is running as many requests as it can: try again in a moment"
        }
    };
    let body = host.unavailable(detail);
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// resolves, then stops accepting, lets the requests in flight finish and
/// closes the connections as they go idle.
pub async fn serve(
    listener: TcpListener,
    host: Arc<dyn Host>,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let refusals = [
        refusal(host.as_ref(), Refused::Address),
        refusal(host.as_ref(), Refused::Server),
    ];
    let registry = Arc::new(Registry {
        limits: limits.clone(),
        epoch: Instant::now(),
        host,
        conns: Mutex::new(Conns::default()),
    });
    let reaper = tokio::spawn(reap(Arc::downgrade(&registry), limits.tick()));
    let (draining, drained) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of files or memory: wait rather than spin.
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let bounded = !registry.host.is_trusted_proxy(peer.ip());
        match registry.admit(client_key(peer.ip()), bounded) {
            Ok(conn) => {
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    conn,
                    registry.clone(),
                    router.clone(),
                    drained.clone(),
                ));
            }
            Err(why) => {
                registry.counters().refused[why as usize].fetch_add(1, Ordering::Relaxed);
                // A fresh socket's send buffer is empty: this never blocks.
                let _ = stream.try_write(&refusals[why as usize]);
            }
        }
    }
    drop(listener);
    let _ = draining.send(true);
    drop(drained);
    draining.closed().await;
    reaper.abort();
    Ok(())
}

/// An error of one connection (not of the listener): accept the next.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn reap(registry: Weak<Registry>, tick: Duration) {
    loop {
        tokio::time::sleep(tick).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        registry.reap();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    router: Router,
    mut drained: tokio::sync::watch::Receiver<bool>,
) {
    let _gone = Gone(registry.clone(), conn.id);
    let io = TokioIo::new(Tracked {
        inner: stream,
        conn: conn.clone(),
    });
    let service = {
        let conn = conn.clone();
        let registry = registry.clone();
        hyper::service::service_fn(move |request| {
            answer(
                request,
                peer,
                router.clone(),
                conn.clone(),
                registry.clone(),
            )
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Timed by the reaper, between requests too.
    builder.header_read_timeout(None);
    let http = builder.serve_connection(io, service);
    let mut http = std::pin::pin!(http);
    let mut draining = false;
    loop {
        tokio::select! {
            result = http.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            () = conn.close.notified() => return,
            _ = drained.changed(), if !draining => {
                draining = true;
                http.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Runs one request through the router, with the client's address, its
/// body on a deadline, and its response followed to its end.
fn answer(
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    router: Router,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
) -> impl Future<Output = Result<hyper::Response<Body>, Infallible>> {
    let in_flight = InFlight::start(conn.clone());
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ConnectInfo(peer));
    let body = if http_body::Body::is_end_stream(&body) {
        Body::new(body)
    } else {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(registry.limits.body_read)),
            conn: conn.id,
            registry,
        })
    };
    let request = hyper::Request::from_parts(parts, body);
    async move {
        let response = match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        Ok(response.map(|inner| {
            Body::new(ResponseBody {
                inner,
                _in_flight: in_flight,
            })
        }))
    }
}

/// A request from its head until its response ends (or is dropped).
struct InFlight(Arc<Conn>);

impl InFlight {
    fn start(conn: Arc<Conn>) -> Self {
        conn.request_started();
        Self(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.response_ended();
    }
}

/// A response's body, holding its request in flight until it ends.
struct ResponseBody {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request's body that must arrive in full before its deadline; past it,
/// the body fails and the connection is closed.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    conn: u64,
    registry: Arc<Registry>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.registry.close(this.conn, Close::BodyRead);
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling its connection when bytes arrive and when a write
/// waits.
struct Tracked {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.received();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        self.conn.wrote(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, data);
        self.conn.wrote(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServeLimits {
        ServeLimits {
            header_read: Duration::from_millis(100),
            keep_alive: Duration::from_millis(300),
            body_read: Duration::from_millis(100),
            write_stall: Duration::from_millis(200),
            max_connections: 10,
            max_connections_per_address: 2,
        }
    }

    fn conn(now: u64) -> Conn {
        Conn {
            id: 1,
            client: "10.0.0.1".into(),
            epoch: Instant::now(),
            in_flight: AtomicU32::new(0),
            waiting_since: AtomicU64::new(now),
            head_started: AtomicU64::new(now),
            write_blocked_since: AtomicU64::new(NONE),
            close: tokio::sync::Notify::new(),
        }
    }

    #[test]
    fn a_connection_is_overdue_by_the_rule_of_what_it_is_doing() {
        let l = limits();
        // Opened at 0, nothing sent: the head's time runs from the opening.
        let c = conn(0);
        assert_eq!(c.overdue(&l, 99), None);
        assert_eq!(c.overdue(&l, 100), Some(Close::HeaderRead));
        // A request runs: no head or keep-alive time, however long.
        c.request_started();
        assert_eq!(c.overdue(&l, 10_000), None);
        // ...but a write the client does not read is.
        c.write_blocked_since.store(10_000, Ordering::Relaxed);
        assert_eq!(c.overdue(&l, 10_199), None);
        assert_eq!(c.overdue(&l, 10_200), Some(Close::WriteStall));
        c.write_blocked_since.store(NONE, Ordering::Relaxed);
        // The response ended: waiting for the next request, keep-alive.
        c.response_ended();
        let ended = c.waiting_since.load(Ordering::Relaxed);
        assert_eq!(c.overdue(&l, ended + 299), None);
        assert_eq!(c.overdue(&l, ended + 300), Some(Close::KeepAlive));
        // A byte of the next request: from then on, the head's time.
        c.head_started.store(ended + 250, Ordering::Relaxed);
        assert_eq!(c.overdue(&l, ended + 300), None);
        assert_eq!(c.overdue(&l, ended + 350), Some(Close::HeaderRead));
    }

    #[test]
    fn a_new_connection_over_a_bound_replaces_the_one_that_waited_longest() {
        let conns = Conns::default();
        let mut conns = conns;
        for (id, client, waiting, busy) in [
            (1, "a", 50, false),
            (2, "a", 10, true),
            (3, "b", 30, false),
            (4, "a", 20, false),
        ] {
            let c = conn(waiting);
            let c = Conn {
                id,
                client: client.into(),
                ..c
            };
            if busy {
                c.request_started();
            }
            conns.all.insert(id, Arc::new(c));
            *conns.per_address.entry(client.into()).or_default() += 1;
        }
        // Running a request: never chosen, however long it has been open.
        assert_eq!(conns.longest_waiting(|c| c.client == "a"), Some(4));
        assert_eq!(conns.longest_waiting(|_| true), Some(4));
        conns.remove(4);
        conns.remove(1);
        assert_eq!(conns.longest_waiting(|c| c.client == "a"), None);
        assert_eq!(conns.per_address.get("a"), Some(&1));
        conns.remove(2);
        assert_eq!(conns.per_address.get("a"), None, "no empty entry is kept");
        assert_eq!(conns.longest_waiting(|_| true), Some(3));
    }

    #[test]
    fn addresses_count_as_the_limits_count_them() {
        let key = |s: &str| client_key(s.parse().expect("an address"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::1"), key("2001:db8:1:2::9"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn the_default_bound_leaves_files_for_the_rest() {
        let max = default_max_connections();
        assert!((16..=MAX_CONNECTIONS).contains(&max));
        if let Some(limit) = open_files_limit() {
            assert!(max + RESERVED_FILES <= limit.max(16 + RESERVED_FILES));
        }
        assert!(limits().tick() >= Duration::from_millis(10));
        assert_eq!(ServeLimits::default().tick(), Duration::from_secs(1));
    }
}
