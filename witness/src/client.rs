//! The client side of C2SP `tlog-witness`: the log's `add-checkpoint`
//! request, posted to a witness over http or https, and the log's asking
//! of every witness a charter names at once (the server's rounds, the
//! CLI's `publish`, the witness benchmark).

use std::time::Duration;

use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use windledger_store::CosignatureVerifier;

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

/// The consistency proof lines from `old` to `size` (none from 0, or when
/// the sizes are equal; none either when `old` is beyond the tree: the
/// witness will say it co-signed a larger one).
pub fn proof_lines(log: &windledger_tlog::Log, old: u64, size: u64) -> Vec<String> {
    if old == 0 || old >= size {
        return Vec::new();
    }
    log.consistency_proof(old, size)
        .map(|p| p.iter().map(|h| B64.encode(h)).collect())
        .unwrap_or_default()
}

/// The consistency proof lines from a size to the checkpoint's, if the
/// tree that checkpoint signs is still at hand.
pub type ProofFrom<'a> = dyn Fn(u64) -> Option<Vec<String>> + Send + Sync + 'a;

/// Asks each witness (its address and key, and the size the caller thinks
/// it co-signed last, with the proof from it) to co-sign `note`, a
/// checkpoint of `size` leaves, all at once: each one's co-signature line,
/// verified, or why not.
pub async fn ask_all(
    witnesses: &[(String, CosignatureVerifier, u64, Vec<String>)],
    note: &str,
    size: u64,
    proof_from: &ProofFrom<'_>,
) -> Vec<Result<String, Answer>> {
    let asks = witnesses.iter().map(|(url, key, old, proof)| {
        ask(
            proof_from,
            url.clone(),
            key,
            note,
            *old,
            proof.clone(),
            size,
        )
    });
    futures::future::join_all(asks).await
}

/// Why a witness gave no co-signature.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The witness answered and did not co-sign; `witnessed` is the size
    /// it says it co-signed, when it says.
    Refused {
        witnessed: Option<u64>,
        why: String,
    },
    Unreachable(String),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused { why, .. } | Self::Unreachable(why) => f.write_str(why),
        }
    }
}

/// Asks one witness to co-sign `note` (of `size` leaves, root `root`):
/// its co-signature line, verified. A witness that co-signed another size
/// than the server thought (409 with its size) is asked again once, with
/// the proof from that size.
async fn ask(
    proof_from: &ProofFrom<'_>,
    url: String,
    key: &CosignatureVerifier,
    note: &str,
    old: u64,
    proof: Vec<String>,
    size: u64,
) -> Result<String, Answer> {
    let mut old = old;
    let mut proof = proof;
    for attempt in 0..2 {
        let body = request_body(old, &proof, note);
        let (status, content_type, text) = post(&url, body).await.map_err(Answer::Unreachable)?;
        match status {
            StatusCode::OK => {
                let line = text
                    .lines()
                    .map(|l| format!("{l}\n"))
                    .find(|l| key.verify(&format!("{note}{l}")).is_ok())
                    .ok_or_else(|| Answer::Refused {
                        witnessed: None,
                        why: "its answer carries no valid co-signature by its key".to_owned(),
                    })?;
                return Ok(line);
            }
            StatusCode::CONFLICT if content_type.as_deref() == Some("text/x.tlog.size") => {
                let witnessed: u64 = text.trim_end().parse().map_err(|_| Answer::Refused {
                    witnessed: None,
                    why: "its answer is not a tree size".to_owned(),
                })?;
                if witnessed > size {
                    return Err(Answer::Refused {
                        witnessed: Some(witnessed),
                        why: format!(
                            "it co-signed a tree of {witnessed} events, larger than the ledger's {size}: the ledger was rolled back"
                        ),
                    });
                }
                if attempt == 1 || witnessed == old {
                    break;
                }
                old = witnessed;
                proof = match proof_from(old) {
                    Some(proof) => proof,
                    None => break,
                };
            }
            StatusCode::CONFLICT => {
                return Err(Answer::Refused {
                    witnessed: Some(size),
                    why: format!(
                        "it co-signed another tree of {size} events: the ledger was forked or rewritten"
                    ),
                });
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                return Err(Answer::Refused {
                    witnessed: Some(old),
                    why: format!(
                        "the tree of {size} events does not extend the tree of {old} events it co-signed: the ledger was forked or rewritten"
                    ),
                });
            }
            other => {
                return Err(Answer::Refused {
                    witnessed: None,
                    why: format!("it answered {other}: {}", text.trim()),
                });
            }
        }
    }
    Err(Answer::Refused {
        witnessed: Some(old),
        why: format!("it did not accept the tree of {old} events as its last one"),
    })
}
