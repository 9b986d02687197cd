//! One HTTP exchange: a prepared request through the pooled client, and its
//! answer read within the size limit.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use super::classify::classify;
use super::redirect::{self, At, Hop};
use super::{pool, Error, Prepared, Response, Transport, MAX_REDIRECTS};

/// How much of the answer's body an exchange reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Read {
    /// All of it, within the request's MaxResponseSize and Timeout.
    Whole,
    /// At most `bytes`, waiting at most `wait` for them; whatever happens to
    /// the body after the status line (too long, too slow, cut off) leaves
    /// the answer as it stands, with the part that arrived.
    Excerpt { bytes: usize, wait: Duration },
}

/// Sends `request` and reads its answer as `read` says.
pub(crate) fn send(
    transport: &Transport,
    request: &Prepared,
    read: Read,
) -> Result<Response, Error> {
    let pooled = pool::client(transport)?;
    // A whole answer read to its end leaves the connection idle in the pool.
    let clean = |out: &Result<Response, Error>| matches!(read, Read::Whole) && out.is_ok();
    pooled.run(exchange(&pooled.client, transport, request, read), clean)
}

async fn exchange(
    client: &reqwest::Client,
    transport: &Transport,
    request: &Prepared,
    read: Read,
) -> Result<Response, Error> {
    let (method, url, headers, body) = request.parts();
    let first = At {
        method: &method,
        url,
        headers,
        body,
    };
    // Set once a redirect is followed.
    let mut hop: Option<Hop> = None;
    // Timeout limits the whole exchange, redirects included.
    let deadline = request.timeout().map(|t| Instant::now() + t);
    let mut followed = 0;
    let (response, shown) = loop {
        let at = hop.as_ref().map_or(first, Hop::at);
        let shown = match &hop {
            None => Cow::Borrowed(request.shown_url()),
            Some(hop) => Cow::Owned(super::redact_url(&hop.url)),
        };
        let jar = request.cookies();
        let failed =
            |e: reqwest::Error| classify(&e, &shown, request.timeout(), transport.connect_timeout);
        // Every answer's cookies are kept, a 401's too.
        let keep_cookies = |response: &reqwest::Response| {
            if let Some(jar) = jar {
                jar.store_from(at.url, response.headers());
            }
        };
        let mut response = hop_request(client, &at, jar, deadline, None)
            .send()
            .await
            .map_err(failed)?;
        keep_cookies(&response);
        // A Digest challenge of the request's own origin is answered once.
        if let Some(authorization) = digest_answer(request, &at, url, &response) {
            response = hop_request(client, &at, jar, deadline, Some(authorization))
                .send()
                .await
                .map_err(failed)?;
            keep_cookies(&response);
        }
        if !transport.follow_redirects {
            break (response, shown);
        }
        match redirect::next(at, response.status().as_u16(), response.headers())? {
            None => break (response, shown),
            Some(_) if followed == MAX_REDIRECTS => {
                return Err(Error::TooManyRedirects {
                    url: request.shown_url().to_string(),
                })
            }
            Some(next) => {
                followed += 1;
                hop = Some(next);
            }
        }
    };

    let status = response.status().as_u16();
    let mut answered = hop.map_or_else(|| url.clone(), |hop| hop.url);
    // Cannot fail for http(s) URLs; the URL answered stays as it is if so.
    let _ = answered.set_username("");
    let _ = answered.set_password(None);
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match read {
        Read::Whole => read_body(response, request, &shown, transport).await?,
        Read::Excerpt { bytes, wait } => read_excerpt(response, bytes, wait).await,
    };
    Ok(Response {
        status,
        headers,
        body,
        url: answered.into(),
    })
}

/// The request of one hop: its headers, the jar's cookies for its URL
/// (unless the caller set Cookie), what is left of the Timeout, its body,
/// and an `Authorization` that answers a challenge.
fn hop_request(
    client: &reqwest::Client,
    at: &At<'_>,
    jar: Option<&super::cookies::Jar>,
    deadline: Option<Instant>,
    authorization: Option<reqwest::header::HeaderValue>,
) -> reqwest::RequestBuilder {
    let mut builder = client
        .request(at.method.clone(), at.url.clone())
        .headers(at.headers.clone());
    if let Some(cookie) = jar
        .filter(|_| !at.headers.contains_key(reqwest::header::COOKIE))
        .and_then(|jar| jar.header_for(at.url))
    {
        builder = builder.header(reqwest::header::COOKIE, cookie);
    }
    if let Some(authorization) = authorization {
        builder = builder.header(reqwest::header::AUTHORIZATION, authorization);
    }
    if let Some(deadline) = deadline {
        builder = builder.timeout(deadline.saturating_duration_since(Instant::now()));
    }
    if let Some(body) = at.body {
        builder = builder.body(body.clone());
    }
    builder
}

/// The `Authorization` that answers `response`'s Digest challenge, when the
/// request carries Digest credentials, the hop is on the request's own
/// origin and the caller set no Authorization of its own.
fn digest_answer(
    request: &Prepared,
    at: &At<'_>,
    origin: &reqwest::Url,
    response: &reqwest::Response,
) -> Option<reqwest::header::HeaderValue> {
    let credentials = request.digest()?;
    if response.status() != reqwest::StatusCode::UNAUTHORIZED
        || at.url.origin() != origin.origin()
        || at.headers.contains_key(reqwest::header::AUTHORIZATION)
    {
        return None;
    }
    let challenge = super::digest::Challenge::from_headers(response.headers())?;
    let mut target = at.url.path().to_string();
    if let Some(query) = at.url.query() {
        target.push('?');
        target.push_str(query);
    }
    let value = challenge.authorization(
        &credentials.user,
        &credentials.password,
        at.method.as_str(),
        &target,
        &super::sign::new_message_id(),
        1,
    );
    reqwest::header::HeaderValue::from_str(&value).ok()
}

async fn read_body(
    mut response: reqwest::Response,
    request: &Prepared,
    shown: &str,
    transport: &Transport,
) -> Result<Vec<u8>, Error> {
    let limit = request.max_response_size();
    let too_large = |limit: u64| Error::ResponseTooLarge {
        url: shown.to_string(),
        limit,
    };
    let length = response.content_length();
    if let (Some(limit), Some(length)) = (limit, length) {
        if length > limit {
            return Err(too_large(limit));
        }
    }
    let mut body = Vec::with_capacity(length.map_or(0, |l| l.min(1 << 20) as usize));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if let Some(limit) = limit {
                    if body.len() as u64 > limit {
                        return Err(too_large(limit));
                    }
                }
            }
            Ok(None) => return Ok(body),
            // What arrived before the error is kept: the text says how much.
            Err(e) => {
                return Err(
                    classify(&e, shown, request.timeout(), transport.connect_timeout)
                        .with_progress(body.len() as u64, length),
                )
            }
        }
    }
}

/// Up to `bytes` of the body, for at most `wait`; errors end the reading
/// and keep what arrived.
async fn read_excerpt(mut response: reqwest::Response, bytes: usize, wait: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    let reading = async {
        while body.len() < bytes {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = bytes - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
    };
    // Elapsed: keep what arrived; the connection is dropped half-read.
    let _ = tokio::time::timeout(wait, reading).await;
    body
}
