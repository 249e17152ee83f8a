//! A TCP relay between the worker and a real server that breaks one connection at a chosen
//! moment: the faults a network or an overloaded server produce. The relay does not speak
//! the protocol (it cannot read TLS); it counts bytes and watches for a marker in the clear.
//! After the first fault it heals itself, so the next run meets the real server untouched.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How the relay breaks the next connection.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Passes everything.
    Pass,
    /// Cuts the connection once the server has sent `n` bytes on it (mid-response).
    CutReplyAfter(usize),
    /// Once the server has sent `n` bytes, passes the client's next write to the server and
    /// then cuts before the answer comes back: the command ran, the client never learns it.
    CutAfterNextCommand(usize),
    /// Cuts once the client has sent `marker` and then `then` more bytes (e.g. mid-DATA).
    CutRequestAfter { marker: &'static [u8], then: usize },
    /// Accepts the connection and never says anything.
    Silent,
}

pub struct Relay {
    port: u16,
    fault: Arc<Mutex<Fault>>,
    cuts: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

impl Relay {
    /// Listens on a free loopback port and relays each connection to `upstream`.
    pub fn start(upstream: u16, fault: Fault) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let relay = Relay {
            port,
            fault: Arc::new(Mutex::new(fault)),
            cuts: Arc::new(AtomicUsize::new(0)),
            closed: Arc::new(AtomicBool::new(false)),
        };
        let (fault, cuts, closed) = (
            relay.fault.clone(),
            relay.cuts.clone(),
            relay.closed.clone(),
        );
        thread::spawn(move || {
            let mut silent = Vec::new();
            for client in listener.incoming() {
                if closed.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let now = *fault.lock().unwrap();
                if matches!(now, Fault::Silent) {
                    cuts.fetch_add(1, Ordering::SeqCst);
                    silent.push(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let armed = Connection::new(client, server, now, fault.clone(), cuts.clone());
                armed.spawn();
            }
        });
        relay
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many connections the relay has broken.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `closed`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One relayed connection and what it shares between its two directions.
struct Connection {
    client: TcpStream,
    server: TcpStream,
    fault: Fault,
    shared: Arc<Shared>,
}

struct Shared {
    from_server: AtomicUsize,
    cut: AtomicBool,
    global: Arc<Mutex<Fault>>,
    cuts: Arc<AtomicUsize>,
    ends: [TcpStream; 2],
}

impl Shared {
    /// Breaks both sides, counts the fault once and heals the relay.
    fn cut(&self) {
        if !self.cut.swap(true, Ordering::SeqCst) {
            self.cuts.fetch_add(1, Ordering::SeqCst);
            *self.global.lock().unwrap() = Fault::Pass;
        }
        for end in &self.ends {
            let _ = end.shutdown(Shutdown::Both);
        }
    }
}

impl Connection {
    fn new(
        client: TcpStream,
        server: TcpStream,
        fault: Fault,
        global: Arc<Mutex<Fault>>,
        cuts: Arc<AtomicUsize>,
    ) -> Connection {
        let ends = [
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        ];
        Connection {
            client,
            server,
            fault,
            shared: Arc::new(Shared {
                from_server: AtomicUsize::new(0),
                cut: AtomicBool::new(false),
                global,
                cuts,
                ends,
            }),
        }
    }

    fn spawn(self) {
        let Connection {
            client,
            server,
            fault,
            shared,
        } = self;
        let (client_read, server_write) = (client.try_clone().expect("clone"), server);
        let server_read = server_write.try_clone().expect("clone");
        let client_write = client;
        let up = shared.clone();
        thread::spawn(move || upstream(client_read, server_write, fault, &up));
        thread::spawn(move || downstream(server_read, client_write, fault, &shared));
    }
}

/// Client → server.
fn upstream(mut from: TcpStream, mut to: TcpStream, fault: Fault, shared: &Shared) {
    let mut buffer = [0u8; 16 * 1024];
    let mut seen = Vec::new();
    let mut after_marker: Option<usize> = None;
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 || shared.cut.load(Ordering::SeqCst) {
            break;
        }
        let chunk = &buffer[..n];
        match fault {
            Fault::CutAfterNextCommand(limit)
                if shared.from_server.load(Ordering::SeqCst) >= limit =>
            {
                let _ = to.write_all(chunk);
                // Lets the server act on the command before the answer is lost.
                thread::sleep(Duration::from_millis(500));
                shared.cut();
                break;
            }
            Fault::CutRequestAfter { marker, then } => {
                if after_marker.is_none() {
                    seen.extend_from_slice(chunk);
                    if let Some(at) = find(&seen, marker) {
                        after_marker = Some(seen.len() - at - marker.len());
                    }
                } else {
                    after_marker = after_marker.map(|sent| sent + n);
                }
                if let Some(sent) = after_marker.filter(|&sent| sent > then) {
                    let keep = n.saturating_sub(sent - then);
                    let _ = to.write_all(&chunk[..keep]);
                    shared.cut();
                    break;
                }
            }
            _ => {}
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Server → client.
fn downstream(mut from: TcpStream, mut to: TcpStream, fault: Fault, shared: &Shared) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 || shared.cut.load(Ordering::SeqCst) {
            break;
        }
        let before = shared.from_server.fetch_add(n, Ordering::SeqCst);
        if let Fault::CutReplyAfter(limit) = fault
            && before + n > limit
        {
            let _ = to.write_all(&buffer[..limit.saturating_sub(before)]);
            shared.cut();
            break;
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
