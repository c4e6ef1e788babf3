//! HTTP/1.1 to the target, directly on hyper: connections kept in a small per-client pool,
//! requests built from a pre-parsed endpoint, and every failure to connect told apart (refused,
//! timed out, TLS). A load generator's own overhead is part of what it measures, so this path
//! does no URL parsing, proxy lookup or connection hashing per request.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Why a base URL cannot be used as an endpoint, or TLS cannot be set up for it.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("the base URL is not a URL ({0})")]
    NotAUrl(url::ParseError),
    #[error("the base URL has no host")]
    NoHost,
    #[error("the base URL has no port")]
    NoPort,
    #[error("{host:?} cannot name a TLS server ({reason})")]
    TlsServerName {
        host: String,
        reason: rustls::pki_types::InvalidDnsNameError,
    },
    #[error("the scheme {0:?} is not http or https")]
    Scheme(String),
    #[error("the base URL's host is not a valid Host header")]
    HostHeader,
    #[error("cannot set up TLS: {0}")]
    TlsSetup(rustls::Error),
    #[error("cannot load the trust store: {0}")]
    TrustStore(rustls::Error),
}

/// A request path that is not a valid URI path.
#[derive(Debug, thiserror::Error)]
#[error("cannot form a request path: {0}")]
pub struct PathError(http::uri::InvalidUri);

/// Where requests go: parsed once from the base URL.
#[derive(Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    /// The `Host` header.
    pub authority: HeaderValue,
    /// The base URL's path without a trailing slash, e.g. `/api/v2`.
    pub base_path: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Endpoint({}:{}{}, tls: {})",
            self.host,
            self.port,
            self.base_path,
            self.tls.is_some()
        )
    }
}

impl Endpoint {
    /// Parses an `http://` or `https://` base URL.
    pub fn parse(base_url: &str) -> Result<Endpoint, EndpointError> {
        let url = url::Url::parse(base_url).map_err(EndpointError::NotAUrl)?;
        let host = url.host_str().ok_or(EndpointError::NoHost)?.to_owned();
        let port = url.port_or_known_default().ok_or(EndpointError::NoPort)?;
        let tls = match url.scheme() {
            "http" => None,
            "https" => {
                let server_name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|reason| EndpointError::TlsServerName {
                        host: host.clone(),
                        reason,
                    })?;
                Some((TlsConnector::from(tls_config()?), server_name))
            }
            other => return Err(EndpointError::Scheme(other.to_owned())),
        };
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        Ok(Endpoint {
            authority: HeaderValue::from_str(&authority).map_err(|_| EndpointError::HostHeader)?,
            base_path: url.path().trim_end_matches('/').to_owned(),
            host,
            port,
            tls,
        })
    }
}

/// TLS with the platform's trust store, speaking HTTP/1.1 only (as the connections are).
fn tls_config() -> Result<Arc<rustls::ClientConfig>, EndpointError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(EndpointError::TlsSetup)?
        .with_platform_verifier()
        .map_err(EndpointError::TrustStore)?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Why no response headers came back.
#[derive(Debug)]
pub enum SendError {
    /// The connection could not be made (refused, unreachable, DNS).
    Connect(String),
    /// Connecting took longer than the connect timeout.
    ConnectTimeout,
    /// The TLS handshake failed.
    Tls(String),
    /// The connection failed after it was made, before the response headers.
    Lost(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Connect(why) => write!(f, "cannot connect: {why}"),
            SendError::ConnectTimeout => f.write_str("connecting took too long"),
            SendError::Tls(why) => write!(f, "TLS handshake failed: {why}"),
            SendError::Lost(why) => write!(f, "the connection failed before the response: {why}"),
        }
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// A connection lent to one request; give it back with [`Transport::release`] once the
/// response body has been read to the end, or drop it to close the connection.
pub struct Lease(Sender);

/// Connections to one endpoint.
pub struct Transport {
    endpoint: Endpoint,
    idle: Mutex<Vec<Sender>>,
    max_idle: usize,
    connect_timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transport({:?})", self.endpoint)
    }
}

impl Transport {
    pub fn new(endpoint: Endpoint, connect_timeout: Duration, max_idle: usize) -> Transport {
        Transport {
            endpoint,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            connect_timeout,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The URI of `path_and_query` under the base path; requests also need the endpoint's
    /// `authority` as their `Host` header.
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, PathError> {
        let mut path = String::with_capacity(self.endpoint.base_path.len() + path_and_query.len());
        path.push_str(&self.endpoint.base_path);
        path.push_str(path_and_query);
        Uri::try_from(path).map_err(PathError)
    }

    /// Sends a request on an idle connection (or a new one) and waits for the response headers.
    /// A pooled connection the server has closed meanwhile is replaced and the request resent,
    /// which is safe: it was never written.
    pub async fn send(
        &self,
        mut request: Box<Request<Full<Bytes>>>,
    ) -> Result<(Response<Incoming>, Lease), SendError> {
        while let Some(mut sender) = self.checkout() {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(*request).await {
                Ok(response) => return Ok((response, Lease(sender))),
                Err(mut err) => match err.take_message() {
                    Some(unsent) => *request = unsent,
                    None => {
                        return Err(SendError::Lost(crate::api::client::error_chain(
                            err.error(),
                        )));
                    }
                },
            }
        }
        // Boxed: connecting (DNS, TCP, TLS) needs a large future that the common path, reusing
        // a connection, should not carry and copy around.
        let mut sender = Box::pin(self.connect()).await?;
        match sender.try_send_request(*request).await {
            Ok(response) => Ok((response, Lease(sender))),
            Err(err) => Err(SendError::Lost(crate::api::client::error_chain(
                err.error(),
            ))),
        }
    }

    /// Returns a connection whose response was read to the end, for the next request.
    pub fn release(&self, lease: Lease) {
        if lease.0.is_closed() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(lease.0);
        }
    }

    fn checkout(&self) -> Option<Sender> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Sender, SendError> {
        let endpoint = &self.endpoint;
        // One limit for the whole of connecting: DNS, TCP and TLS together.
        let deadline = tokio::time::Instant::now() + self.connect_timeout;
        let tcp = tokio::time::timeout_at(deadline, connect_tcp(&endpoint.host, endpoint.port))
            .await
            .map_err(|_| SendError::ConnectTimeout)??;
        match &endpoint.tls {
            None => handshake(tcp).await,
            Some((connector, name)) => {
                let tls = tokio::time::timeout_at(deadline, connector.connect(name.clone(), tcp))
                    .await
                    .map_err(|_| SendError::ConnectTimeout)?
                    .map_err(|err| SendError::Tls(crate::api::client::error_chain(&err)))?;
                handshake(tls).await
            }
        }
    }
}

async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, SendError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|err| SendError::Connect(format!("cannot resolve {host}: {err}")))?
        .collect();
    let mut last = format!("{host} has no address");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(err) => last = format!("{address}: {err}"),
        }
    }
    Err(SendError::Connect(last))
}

async fn handshake<S>(stream: S) -> Result<Sender, SendError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|err| SendError::Lost(crate::api::client::error_chain(&err)))?;
    // The connection is driven by its own task; it ends when the sender is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_host_port_and_base_path() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/api/v2/").unwrap();
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("127.0.0.1", 8080));
        assert_eq!(endpoint.authority, "127.0.0.1:8080");
        assert_eq!(endpoint.base_path, "/api/v2");
        assert!(endpoint.tls.is_none());
        let endpoint = Endpoint::parse("https://eu1.make.com/api/v2").unwrap();
        assert_eq!(
            (endpoint.port, endpoint.authority.to_str().unwrap()),
            (443, "eu1.make.com")
        );
        assert!(endpoint.tls.is_some());
        let endpoint = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!(endpoint.base_path, "");
        assert_eq!(endpoint.authority, "[::1]:9000");
        assert!(Endpoint::parse("ftp://x").is_err());
    }
}
