//! Bearer tokens on the API: the `Caller` extractor turns an
//! `Authorization: Bearer` header into the service layer's [`Actor`]
//! (cached for a short time per process; revocation clears the cache).

use crate::error::ApiError;
use crate::service::tokens;
pub use crate::service::{Actor, Role};
use crate::state::AppState;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

/// The authenticated caller of an API request.
pub type Caller = Actor;

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let header = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = header.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let hash = crate::service::sessions::hash_token(&token);
            if let Some(c) = state.token_cache.get(&hash) {
                return Ok(c);
            }
            let h = hash.clone();
            let row = crate::api::with_conn(&state, move |c| tokens::authenticate(c, &h)).await?;
            let (id, name, role) = row.ok_or(ApiError::Unauthorized)?;
            let mut caller = Actor::api(name, role);
            caller.token = Some(id);
            state.token_cache.put(hash, caller.clone());
            Ok(caller)
        })
    }
}
