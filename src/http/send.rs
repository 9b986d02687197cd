//! One HTTP exchange: a prepared request through the pooled client, and its
//! answer read within the size limit.

use std::io::Read;

use super::classify::{classify, transfer};
use super::{pool, Error, Prepared, Response, TimeoutPhase, Transport};

/// Sends `request` and reads the whole answer.
pub(crate) fn send(transport: &Transport, request: &Prepared) -> Result<Response, Error> {
    let client = pool::client(transport)?;
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
    let body = read_body(response, request, transport)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn read_body(
    response: reqwest::blocking::Response,
    request: &Prepared,
    transport: &Transport,
) -> Result<Vec<u8>, Error> {
    let shown = request.shown_url();
    let limit = request.max_response_size();
    let too_large = |limit: u64| Error::ResponseTooLarge {
        url: shown.to_string(),
        limit,
    };
    if let (Some(limit), Some(length)) = (limit, response.content_length()) {
        if length > limit {
            return Err(too_large(limit));
        }
    }
    let length = response.content_length();
    let mut body = Vec::new();
    let mut reader = response.take(limit.map_or(u64::MAX, |l| l.saturating_add(1)));
    // read_to_end keeps what arrived before an error: the text says how much.
    reader.read_to_end(&mut body).map_err(|e| {
        let got = body.len() as u64;
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
            return classify(inner, shown, request.timeout(), transport.connect_timeout)
                .with_progress(got, length);
        }
        if e.kind() == std::io::ErrorKind::TimedOut {
            return Error::Timeout {
                url: shown.to_string(),
                phase: TimeoutPhase::Request,
                after: request.timeout(),
            };
        }
        transfer(shown, &e).with_progress(got, length)
    })?;
    match limit {
        Some(limit) if body.len() as u64 > limit => Err(too_large(limit)),
        _ => Ok(body),
    }
}
