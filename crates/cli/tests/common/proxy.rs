//! A TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL in DUR-8), which the test can
//! cut: [`Proxy::cut`] ends every connection through it and stops listening, so new connections
//! are refused, as when the server stops; [`Proxy::restore`] listens again on the same port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::AbortHandle;

/// A cuttable proxy to `target`.
pub struct Proxy {
    addr: SocketAddr,
    target: String,
    inner: Arc<Inner>,
    accept: Mutex<Option<AbortHandle>>,
}

#[derive(Default)]
struct Inner {
    conns: Mutex<Vec<AbortHandle>>,
    open: AtomicUsize,
    accepted: AtomicUsize,
}

fn listen(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(1024).unwrap()
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 to `target` (`host:port`), listening.
    pub fn start(target: &str) -> Proxy {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let proxy = Proxy {
            addr,
            target: target.to_owned(),
            inner: Arc::new(Inner::default()),
            accept: Mutex::new(None),
        };
        proxy.restore();
        proxy
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections open through the proxy now.
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.inner.accepted.load(Ordering::SeqCst)
    }

    /// Listens again (no-op when listening).
    pub fn restore(&self) {
        let mut accept = self.accept.lock().unwrap();
        if accept.is_some() {
            return;
        }
        let listener = listen(self.addr);
        let (inner, target) = (self.inner.clone(), self.target.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                inner.accepted.fetch_add(1, Ordering::SeqCst);
                let (counted, target) = (inner.clone(), target.clone());
                let conn = tokio::spawn(async move {
                    counted.open.fetch_add(1, Ordering::SeqCst);
                    let _open = Open(counted);
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut conns = inner.conns.lock().unwrap();
                conns.retain(|c| !c.is_finished());
                conns.push(conn.abort_handle());
            }
        });
        *accept = Some(task.abort_handle());
    }

    /// Stops listening (new connections are refused) and ends every open connection.
    pub fn cut(&self) {
        if let Some(task) = self.accept.lock().unwrap().take() {
            task.abort();
        }
        for c in self.inner.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

/// Counts an open connection until dropped (also when its task is aborted).
struct Open(Arc<Inner>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}
