//! The client side of C2SP `tlog-witness`: the log's `add-checkpoint`
//! request, posted to a witness over http or https.

use std::time::Duration;

use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a witness may take to answer.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest answer read from a witness.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// An add-checkpoint request body.
pub fn request_body(old: u64, proof: &[String], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for line in proof {
        body.push_str(line);
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// POSTs `body` to `<url>/add-checkpoint` (http or https), within
/// [`WITNESS_TIMEOUT`]: the status, the content type and the text.
pub async fn post(url: &str, body: String) -> Result<(StatusCode, Option<String>, String), String> {
    tokio::time::timeout(WITNESS_TIMEOUT, post_now(url, body))
        .await
        .map_err(|_| format!("no answer within {} s", WITNESS_TIMEOUT.as_secs()))?
}

async fn post_now(url: &str, body: String) -> Result<(StatusCode, Option<String>, String), String> {
    let url = url::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("{url} names no host"))?
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("{url} names no port"))?;
    let path = format!("{}/add-checkpoint", url.path().trim_end_matches('/'));
    let request = Request::post(path)
        .header(header::HOST, url.authority())
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    tcp.set_nodelay(true).ok();
    match url.scheme() {
        "http" => exchange(tcp, request).await,
        "https" => {
            let connector = windledger_mail::tls_connector().map_err(|e| e.to_string())?;
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(
                host.trim_matches(['[', ']']).to_owned(),
            )
            .map_err(|e| e.to_string())?;
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {url} failed: {e}"))?;
            exchange(tls, request).await
        }
        other => Err(format!(
            "a witness is reached over http or https, not {other}"
        )),
    }
}

async fn exchange<S>(
    io: S,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Option<String>, String), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string());
    let answer = match response {
        Ok(response) => {
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| format!("its answer could not be read: {e}"))?
                .to_bytes();
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| "its answer is not text".to_owned())?;
            Ok((status, content_type, text))
        }
        Err(e) => Err(e),
    };
    driver.abort();
    answer
}
