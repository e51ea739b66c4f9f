//! A relay between PostgreSQL clients and their server that counts the queries the clients
//! send, read off the wire: simple-protocol `Query` messages and extended-protocol `Execute`
//! messages. It counts what was sent whatever the client logs, and asks nothing of the server
//! (no pg_stat_statements, no superuser, no access to its log). Server statistics such as
//! `pg_stat_database.xact_commit` count transactions, not queries, and include autovacuum's.
//!
//! To read the messages it declines TLS and GSSAPI encryption on the server's behalf (it
//! answers `N`), so a server that accepts only encrypted connections cannot be measured.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::measure::percent_decode;

/// The request codes of a startup packet that ask for an encrypted session.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Upstream {
    /// `host:port`.
    Tcp(String),
    /// A unix socket file (`<dir>/.s.PGSQL.<port>`).
    Unix(PathBuf),
}

/// A running relay on a local TCP port. Its threads live until xtask exits.
pub(super) struct QueryCounter {
    queries: Arc<AtomicUsize>,
}

impl QueryCounter {
    /// Listen on a free local port and relay every connection to the server of `url`;
    /// returns the relay and the URL to connect to it with.
    pub(super) fn start(url: &str) -> Result<(QueryCounter, String), String> {
        let target = Target::parse(url)?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| format!("cannot listen on a local port: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the relay's port: {e}"))?
            .port();
        let upstream = target.upstream.clone();
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&queries);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = upstream.clone();
                let counted = Arc::clone(&counted);
                // A broken connection ends only itself; the client sees it and fails.
                std::thread::spawn(move || relay(client, &upstream, &counted));
            }
        });
        Ok((QueryCounter { queries }, target.through(port)))
    }

    /// The queries counted since the last call, and start counting from zero.
    pub(super) fn take(&self) -> usize {
        self.queries.swap(0, Ordering::SeqCst)
    }
}

/// One side of a connection to the server.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn connect(upstream: &Upstream) -> io::Result<Stream> {
        match upstream {
            Upstream::Tcp(address) => TcpStream::connect(address).map(Stream::Tcp),
            Upstream::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
        }
    }

    fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
        }
    }

    fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

fn relay(client: TcpStream, upstream: &Upstream, queries: &AtomicUsize) -> io::Result<()> {
    let mut from_client = client.try_clone()?;
    let mut to_client = Stream::Tcp(client);
    let startup = loop {
        let packet = startup_packet(&mut from_client)?;
        let code = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        if code == SSL_REQUEST || code == GSSENC_REQUEST {
            to_client.write_all(b"N")?;
        } else {
            break packet;
        }
    };
    let mut to_server = Stream::connect(upstream)?;
    to_server.write_all(&startup)?;
    let mut from_server = to_server.try_clone()?;
    std::thread::spawn(move || {
        let _ = io::copy(&mut from_server, &mut to_client);
        to_client.shutdown();
    });
    // Every message after the startup packet is a type byte and a length that counts itself.
    let mut header = [0u8; 5];
    while from_client.read_exact(&mut header).is_ok() {
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        from_client.read_exact(&mut body)?;
        // Counted before it is passed on, so a client that has its answer was counted.
        if matches!(header[0], b'Q' | b'E') {
            queries.fetch_add(1, Ordering::SeqCst);
        }
        to_server.write_all(&header)?;
        to_server.write_all(&body)?;
    }
    to_server.shutdown();
    Ok(())
}

/// A startup packet (also an SSL, GSSAPI or cancel request): a length that counts itself,
/// then at least a request code.
fn startup_packet(from: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    from.read_exact(&mut length)?;
    let length = u32::from_be_bytes(length) as usize;
    if !(8..=10_000).contains(&length) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a startup packet of {length} bytes"),
        ));
    }
    let mut packet = vec![0u8; length];
    packet[..4].copy_from_slice(&(length as u32).to_be_bytes());
    from.read_exact(&mut packet[4..])?;
    Ok(packet)
}

/// A `postgres://` URL taken apart: where its server listens, and what a URL pointing at the
/// relay instead keeps of it (all but the `host`, `hostaddr`, `port` and `sslmode` parameters).
#[derive(Debug, PartialEq, Eq)]
struct Target {
    upstream: Upstream,
    userinfo: String,
    path: String,
    query: Vec<String>,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| format!("not a postgres:// URL: {url}"))?;
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = base.split_once('/').unwrap_or((base, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (format!("{userinfo}@"), hostport),
            None => (String::new(), authority),
        };
        // The last colon starts the port unless it is inside an IPv6 address's brackets.
        let (mut host, mut port) = match hostport.rfind(':') {
            Some(i) if !hostport[i..].contains(']') => {
                (hostport[..i].to_string(), hostport[i + 1..].to_string())
            }
            _ => (hostport.to_string(), String::new()),
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "host" | "hostaddr" => host = percent_decode(value)?,
                "port" => port = value.to_string(),
                "sslmode" => {}
                _ => kept.push(pair.to_string()),
            }
        }
        if port.is_empty() {
            port = "5432".into();
        }
        if host.is_empty() {
            host = "localhost".into();
        }
        let upstream = if host.starts_with('/') {
            Upstream::Unix(PathBuf::from(host).join(format!(".s.PGSQL.{port}")))
        } else {
            Upstream::Tcp(format!("{host}:{port}"))
        };
        Ok(Target {
            upstream,
            userinfo,
            path: path.to_string(),
            query: kept,
        })
    }

    /// The URL with the relay on local `port` in place of the server.
    fn through(&self, port: u16) -> String {
        let mut url = format!("postgres://{}127.0.0.1:{port}/{}", self.userinfo, self.path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query.join("&"));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(url: &str, port: u16) -> (Upstream, String) {
        let target = Target::parse(url).unwrap();
        (target.upstream.clone(), target.through(port))
    }

    #[test]
    fn tcp_urls_point_at_the_relay() {
        assert_eq!(
            through("postgres://postgres@127.0.0.1:5432/postgres", 4000),
            (
                Upstream::Tcp("127.0.0.1:5432".into()),
                "postgres://postgres@127.0.0.1:4000/postgres".into()
            )
        );
        assert_eq!(
            through(
                "postgres://u:p@db.example/app?sslmode=require&application_name=x",
                1
            ),
            (
                Upstream::Tcp("db.example:5432".into()),
                "postgres://u:p@127.0.0.1:1/app?application_name=x".into()
            )
        );
        assert_eq!(
            through("postgres://[::1]:6000/app", 2).0,
            Upstream::Tcp("[::1]:6000".into())
        );
    }

    #[test]
    fn socket_urls_point_at_the_socket_file() {
        assert_eq!(
            through(
                "postgres://postgres@localhost:5433/postgres?host=%2Ftmp%2Fgodwit-pg-1",
                9
            ),
            (
                Upstream::Unix("/tmp/godwit-pg-1/.s.PGSQL.5433".into()),
                "postgres://postgres@127.0.0.1:9/postgres".into()
            )
        );
    }
}
