//! One HTTP exchange: a prepared request through the pooled client, and its
//! answer read within the size limit.

use super::classify::classify;
use super::{pool, Error, Prepared, Response, Transport};

/// Sends `request` and reads the whole answer.
pub(crate) fn send(transport: &Transport, request: &Prepared) -> Result<Response, Error> {
    let pooled = pool::client(transport)?;
    pooled.run(exchange(&pooled.client, transport, request))
}

async fn exchange(
    client: &reqwest::Client,
    transport: &Transport,
    request: &Prepared,
) -> Result<Response, Error> {
    let (method, url, headers, body) = request.parts();
    let mut builder = client.request(method, url.clone()).headers(headers.clone());
    if let Some(timeout) = request.timeout() {
        builder = builder.timeout(timeout);
    }
    if let Some(body) = body {
        builder = builder.body(body.clone());
    }
    let shown = request.shown_url();
    let response = builder
        .send()
        .await
        .map_err(|e| classify(&e, shown, request.timeout(), transport.connect_timeout))?;

    let status = response.status().as_u16();
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
    let body = read_body(response, request, transport).await?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

async fn read_body(
    mut response: reqwest::Response,
    request: &Prepared,
    transport: &Transport,
) -> Result<Vec<u8>, Error> {
    let shown = request.shown_url();
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
