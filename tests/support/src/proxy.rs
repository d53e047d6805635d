//! A loopback TCP proxy between a client and a real server, with faults a test switches on
//! and off: refuse new connections, drop open ones, add latency, stall; and, in CQL mode,
//! answer chosen writes with genuine CQL ERROR frames instead of forwarding them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::cql::{self, CqlError, CqlFault, HEADER_LEN, Request};

/// A running proxy; dropping it closes the listener and every proxied connection.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    cql: bool,
    refuse: AtomicBool,
    latency_ms: AtomicU64,
    stalled: watch::Sender<bool>,
    /// Bumped to close every open connection.
    generation: watch::Sender<u64>,
    fault: Mutex<Option<CqlFault>>,
    injected: AtomicU64,
    forwarded_writes: AtomicU64,
    accepted: AtomicU64,
    /// Prepared statement id → whether its statement is a write.
    prepared: Mutex<HashMap<Vec<u8>, bool>>,
}

/// Any free loopback port.
const FREE_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

impl FaultProxy {
    /// A byte-level proxy to `upstream` on a free loopback port (call inside a Tokio runtime).
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        Self::start_mode(FREE_PORT, upstream, false).await
    }

    /// A proxy that also understands CQL v4 frames, so [`FaultProxy::inject`] can answer
    /// writes (QUERY with INSERT/UPDATE/DELETE/BATCH text, EXECUTE, BATCH) itself. Clients
    /// speaking another protocol version, or compressing frames, are passed through as bytes.
    pub async fn start_cql(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        Self::start_mode(FREE_PORT, upstream, true).await
    }

    /// Like [`FaultProxy::start_cql`], listening on `listen`: a server that comes up on an
    /// address clients already try.
    pub async fn start_cql_at(
        listen: SocketAddr,
        upstream: SocketAddr,
    ) -> std::io::Result<FaultProxy> {
        Self::start_mode(listen, upstream, true).await
    }

    async fn start_mode(
        listen: SocketAddr,
        upstream: SocketAddr,
        cql: bool,
    ) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            cql,
            refuse: AtomicBool::new(false),
            latency_ms: AtomicU64::new(0),
            stalled: watch::channel(false).0,
            generation: watch::channel(0).0,
            fault: Mutex::new(None),
            injected: AtomicU64::new(0),
            forwarded_writes: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            prepared: Mutex::new(HashMap::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(FaultProxy {
            addr,
            shared,
            accept,
        })
    }

    /// Where clients connect instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// While `true`, new connections are accepted and closed at once.
    pub fn refuse_new(&self, refuse: bool) {
        self.shared.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Closes every open connection (new ones are proxied as usual).
    pub fn drop_open(&self) {
        self.shared.generation.send_modify(|g| *g += 1);
    }

    /// Delays every forwarded chunk (CQL mode: frame), in both directions.
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.shared.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// While `true`, nothing is forwarded either way (connections stay open).
    pub fn stall(&self, stalled: bool) {
        self.shared.stalled.send_replace(stalled);
    }

    /// Sets (or with `None` clears) which writes the proxy answers itself (CQL mode only).
    pub fn inject(&self, fault: Option<CqlFault>) {
        *self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// How many requests were answered with an injected error so far.
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::SeqCst)
    }

    /// How many write requests (CQL mode) were passed on to the server so far: a count of
    /// writes that may have reached it, retries included.
    pub fn forwarded_writes(&self) -> u64 {
        self.shared.forwarded_writes.load(Ordering::SeqCst)
    }

    /// How many client connections were accepted so far (refused ones included).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_open();
    }
}

impl Shared {
    fn take_fault(&self) -> Option<CqlError> {
        let mut fault = self.fault.lock().unwrap_or_else(PoisonError::into_inner);
        let error = match *fault {
            Some(CqlFault::Next { count, error }) if count > 0 => {
                *fault = Some(CqlFault::Next {
                    count: count - 1,
                    error,
                });
                Some(error)
            }
            Some(CqlFault::Fraction { fraction, error }) if fastrand::f64() < fraction => {
                Some(error)
            }
            _ => None,
        };
        if error.is_some() {
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        error
    }

    /// Waits while stalled, then for the configured latency.
    async fn pace(&self) {
        let mut stalled = self.stalled.subscribe();
        // The sender lives as long as `self`, so this only fails when the proxy is gone.
        let _ = stalled.wait_for(|s| !*s).await;
        let ms = self.latency_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.refuse.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        tokio::spawn(proxy_connection(client, shared.clone()));
    }
}

async fn proxy_connection(client: TcpStream, shared: Arc<Shared>) {
    let mut generation = shared.generation.subscribe();
    generation.mark_unchanged();
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, mut client_write) = client.into_split();
    let (server_read, mut server_write) = server.into_split();
    // One writer towards the client, fed by the server pump and by injected errors, so frames
    // never interleave.
    let (to_client, mut client_queue) = mpsc::channel::<Vec<u8>>(64);
    let writer = async move {
        while let Some(bytes) = client_queue.recv().await {
            if client_write.write_all(&bytes).await.is_err() {
                break;
            }
        }
    };
    let pending = Arc::new(Mutex::new(HashMap::<[u8; 2], bool>::new()));
    let up = {
        let (shared, to_client, pending) = (shared.clone(), to_client.clone(), pending.clone());
        async move {
            let mut reader = client_read;
            let mut cql = shared.cql;
            loop {
                let unit = if cql {
                    match read_frame(&mut reader).await {
                        Some(Unit::Frame(header, bytes)) => Some((Some(header), bytes)),
                        Some(Unit::Raw(bytes)) => {
                            cql = false;
                            Some((None, bytes))
                        }
                        None => None,
                    }
                } else {
                    read_chunk(&mut reader).await.map(|b| (None, b))
                };
                let Some((header, bytes)) = unit else { break };
                shared.pace().await;
                if let Some(header) = header {
                    let body = &bytes[HEADER_LEN..];
                    let request = cql::classify(&header, body, |id| {
                        shared
                            .prepared
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .get(id)
                            .copied()
                    });
                    match request {
                        Request::Write { consistency } => {
                            if let Some(error) = shared.take_fault() {
                                let frame = cql::error_frame(&header, error, consistency);
                                if to_client.send(frame).await.is_err() {
                                    break;
                                }
                                continue;
                            }
                            shared.forwarded_writes.fetch_add(1, Ordering::SeqCst);
                        }
                        Request::Prepare { is_write } => {
                            pending
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .insert(header.stream, is_write);
                        }
                        Request::Other => {}
                    }
                }
                if server_write.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        }
    };
    let down = {
        let shared = shared.clone();
        async move {
            let mut reader = server_read;
            let mut cql = shared.cql;
            loop {
                let bytes = if cql {
                    match read_frame(&mut reader).await {
                        Some(Unit::Frame(header, bytes)) => {
                            let stream_pending = pending
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .remove(&header.stream);
                            if let Some(is_write) = stream_pending
                                && let Some(id) = cql::prepared_id(&header, &bytes[HEADER_LEN..])
                            {
                                shared
                                    .prepared
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .insert(id, is_write);
                            }
                            bytes
                        }
                        Some(Unit::Raw(bytes)) => {
                            cql = false;
                            bytes
                        }
                        None => break,
                    }
                } else {
                    match read_chunk(&mut reader).await {
                        Some(bytes) => bytes,
                        None => break,
                    }
                };
                shared.pace().await;
                if to_client.send(bytes).await.is_err() {
                    break;
                }
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = writer => {}
        _ = generation.changed() => {}
    }
}

enum Unit {
    /// A whole v3/v4 frame (header included).
    Frame(cql::Header, Vec<u8>),
    /// Bytes of a protocol version the proxy does not parse; the stream is raw from here on.
    Raw(Vec<u8>),
}

/// Largest frame the proxy buffers (the protocol's default maximum is 256 MiB; tests stay far
/// below).
const MAX_FRAME: usize = 64 << 20;

async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Option<Unit> {
    let mut head = [0u8; HEADER_LEN];
    reader.read_exact(&mut head).await.ok()?;
    let header = cql::parse_header(&head);
    let version = header.version & 0x7f;
    if !(3..=4).contains(&version) || header.len > MAX_FRAME {
        return Some(Unit::Raw(head.to_vec()));
    }
    let mut bytes = vec![0u8; HEADER_LEN + header.len];
    bytes[..HEADER_LEN].copy_from_slice(&head);
    reader.read_exact(&mut bytes[HEADER_LEN..]).await.ok()?;
    Some(Unit::Frame(header, bytes))
}

async fn read_chunk<R: AsyncRead + Unpin>(reader: &mut R) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 16 * 1024];
    match reader.read(&mut buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.truncate(n);
            Some(buf)
        }
    }
}
