//! Cross-site request forgery. A browser adds the device cookie to every request a page of the
//! same site makes, and `SameSite=Strict` counts every port of a host as one site: a page served
//! on another port of the same host could retire a device or, through an import, make someone
//! an administrator. So a request that carries the cookie and may change something (any method
//! but GET, HEAD and OPTIONS) or opens the sync socket must name this server as its `Origin`,
//! which browsers send with every such request and a page cannot forge. A request without the
//! cookie (a token in the `Authorization` header or the query, which a page of another origin
//! cannot add) is not asked for one; if it names an Origin anyway, it must be this one.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Whether an `Origin` header names the host the request was sent to (`Host`), over http or
/// https. None when the request names no origin.
pub(crate) fn names_this_host(headers: &HeaderMap) -> Option<bool> {
    let origin = headers.get(header::ORIGIN)?;
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), headers.get(header::HOST).map(|h| h.to_str())) else { return Some(false) };
    Some(origin.split_once("://").is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest.eq_ignore_ascii_case(host)))
}

/// The middleware: refuses, before any handler runs, a request the rule above refuses.
pub(crate) async fn same_origin(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let socket = headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let allowed = match names_this_host(headers) {
        Some(here) => here,
        None => !((changes || socket) && crate::auth::cookie_token(headers).is_some()),
    };
    if !allowed {
        return crate::auth::refusal(StatusCode::FORBIDDEN, "cross_origin", "请求不是从本系统的页面发出的，已拒绝");
    }
    next.run(request).await
}
