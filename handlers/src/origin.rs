//! Same-origin and loopback rules (decisions §2.1, §2.11), shared by the caller extractor,
//! magic-link consume and WebSocket upgrades.

use axum::http::{header, HeaderMap};
use std::net::SocketAddr;

fn host_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// `scheme://host[:port]` → `host[:port]` (lowercase), `None` for `null` or garbage.
fn origin_authority(origin: &str) -> Option<String> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))?;
    let authority = rest.split('/').next()?.to_ascii_lowercase();
    (!authority.is_empty()).then_some(authority)
}

/// A request with neither `Origin` nor `Sec-Fetch-Site` is a non-browser client and passes.
/// `Sec-Fetch-Site: cross-site` fails; a present `Origin` must match the request host or
/// the public URL.
pub fn is_same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim().trim_end_matches('/');
    if let Some(public) = public_url {
        if origin.eq_ignore_ascii_case(public.trim_end_matches('/')) {
            return true;
        }
    }
    match (origin_authority(origin), host_header(headers)) {
        (Some(authority), Some(host)) => authority == host.to_ascii_lowercase(),
        _ => false,
    }
}

fn is_local_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name == "127.0.0.1" || name == "::1"
}

/// Dev auth applies only to a loopback peer, addressed by a local Host, with no proxy
/// forwarding headers and no cross-site browser context.
pub fn is_local_request(peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let Some(peer) = peer else { return false };
    if !peer.ip().is_loopback() {
        return false;
    }
    if [
        "x-forwarded-for",
        "forwarded",
        "x-real-ip",
        "x-forwarded-host",
    ]
    .iter()
    .any(|h| headers.contains_key(*h))
    {
        return false;
    }
    if !host_header(headers).is_some_and(is_local_host) {
        return false;
    }
    is_same_origin(headers, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        assert!(is_same_origin(&headers(&[("host", "a.test")]), None));
        assert!(is_same_origin(
            &headers(&[("host", "a.test"), ("origin", "https://a.test")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("host", "a.test"), ("origin", "https://evil.test")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("host", "a.test"), ("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(is_same_origin(
            &headers(&[
                ("host", "internal:8080"),
                ("origin", "https://chat.example.com")
            ]),
            Some("https://chat.example.com")
        ));
        assert!(!is_same_origin(
            &headers(&[("host", "a.test"), ("origin", "null")]),
            None
        ));
    }

    #[test]
    fn local_request_rules() {
        let lo: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        assert!(is_local_request(
            Some(lo),
            &headers(&[("host", "localhost:8080")])
        ));
        assert!(is_local_request(
            Some(lo),
            &headers(&[("host", "127.0.0.1:8080")])
        ));
        assert!(is_local_request(
            Some(lo),
            &headers(&[("host", "[::1]:8080")])
        ));
        assert!(!is_local_request(
            Some(remote),
            &headers(&[("host", "localhost")])
        ));
        assert!(!is_local_request(
            Some(lo),
            &headers(&[("host", "chat.example.com")])
        ));
        assert!(!is_local_request(
            Some(lo),
            &headers(&[("host", "localhost"), ("x-forwarded-for", "1.2.3.4")])
        ));
        assert!(!is_local_request(
            Some(lo),
            &headers(&[("host", "localhost"), ("origin", "https://evil.test")])
        ));
        assert!(!is_local_request(None, &headers(&[("host", "localhost")])));
    }
}
