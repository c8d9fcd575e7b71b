//! The route table: every route with its rate limit, longest prefix first,
//! and the lookup of a path in it.

use super::Route;
use crate::limit::RouteLimit;

/// A route and its rate limit (local, and shared through Redis when
/// `REDIS_URL` is set), when it has one.
pub(crate) struct RouteState {
    pub(crate) route: Route,
    pub(crate) limit: Option<RouteLimit>,
}

/// The index of the route for `path` in `routes` (sorted longest prefix
/// first): the first match, so the most specific.
pub(crate) fn route_of(routes: &[RouteState], path: &str) -> Option<usize> {
    routes.iter().position(|s| s.route.strip(path).is_some())
}
