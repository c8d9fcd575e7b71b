//! The two HTTP helpers of the token check the proxy borrows: the
//! [`HeaderMap`](http::HeaderMap) view the core's gate reads headers
//! through, and the `401` every Approov adapter answers. They come from
//! `approov-tower` today; this is the one place that says so, so moving
//! them to another crate changes this file only.

pub(crate) use approov_tower::HttpHeaders;
pub(crate) use approov_tower::response::unauthorized;
