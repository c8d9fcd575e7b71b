//! An upstream that writes raw HTTP/1.1 bytes, for answers an HTTP server
//! library would never send (a status code outside the registry, both
//! `Content-Length` and `Transfer-Encoding`): each connection gets one
//! request head read and one fixed answer, then is closed.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// The longest request head read; the proxy's are far shorter.
const MAX_HEAD: usize = 64 * 1024;

/// A raw upstream serving on its own threads until dropped.
pub struct RawUpstream {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl RawUpstream {
    /// Answers every request with the bytes `answer` makes from its path.
    pub fn start(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let answer = Arc::new(answer);
        let stopped = stop.clone();
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let answer = answer.clone();
                thread::spawn(move || serve(conn, &*answer));
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accepting thread so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut conn: TcpStream, answer: &(dyn Fn(&str) -> Vec<u8> + Send + Sync)) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/");
    let _ = conn.write_all(&answer(path));
    let _ = conn.shutdown(Shutdown::Write);
    // Lets the peer read the answer before the socket goes (a close with
    // unread input would reset the connection).
    let _ = conn.read(&mut buf);
}
